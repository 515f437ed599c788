"""Writes of the therapies app: plan versions, delivered sessions, home exercise, DREZ.

Every parameter set, prescribed or delivered, goes through the pure catalogue
(``therapies.modalities.check_parameters``): malformed input is refused naming the field;
a value above a safety limit is refused naming the field and the limit, unless a
therapist gives an override reason, which is stored with the codes of the limits it
overrode (DESIGN "Rules that protect patients and data").

Callers fetch the patient through ``patients.access.patient_get_for`` with the action
the write needs (plans and sessions: CLINICAL; home exercise: REPORT); the services
trust that and record the audit event of the write themselves.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from assessments.alerts import text as alert_text
from assessments.alerts.services import alert_raise
from assessments.models import AlertKind, Assessment, Severity
from config.errors import ConflictError, InvalidInput
from config.timeutil import is_too_far_in_future
from patients.audit import Actor, audit_event_record
from patients.models import Patient
from therapies.adherence import plan_end
from therapies.modalities import (
    DREZ_CONTRAINDICATIONS,
    DREZ_FOLLOW_UP_ITEMS,
    MODALITIES,
    CandidacyCheck,
    Check,
    check_parameters,
    drez_candidacy,
)
from therapies.models import (
    AdverseEvent,
    DrezDecision,
    DrezReferral,
    HomeExerciseLog,
    PlanComponent,
    RehabPlan,
    TherapySession,
    Tolerance,
)
from therapies.programme import programme_carry_forward

# Modalities a patient can do, and log, at home. The rest are delivered in the clinic
# and recorded by the therapist as sessions.
HOME_MODALITIES = frozenset({"exercise", "tens", "physical_agents", "medication"})
MAX_FREQUENCY_PER_WEEK = 14
MAX_DURATION_WEEKS = 104
MAX_TEXT = 4000
# A plan may start at most this far before or after today (catches year typos).
START_DATE_WINDOW = dt.timedelta(days=366)


def patient_today(patient: Patient, now: dt.datetime | None = None) -> dt.date:
    """Today's date where the patient lives (DST-safe: the zone decides, not an offset)."""
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(patient.time_zone)).date()


def current_version(patient: Patient) -> int:
    return RehabPlan.objects.filter(patient=patient).aggregate(v=Max("version"))["v"] or 0


# -----------------------------------------------------------------------------
# Parameter checks shared by plans and sessions
# -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """Parameters accepted for storage: normalised, derived, and what was overridden."""

    check: Check
    override_reason: str
    overridden_limits: list[str]


# An override is a clinical decision on the record: its reason must say why, not just "ok".
OVERRIDE_REASON_MIN_CHARS = 20


def _limits_errors(check: Check, override_reason: str) -> dict[str, Any]:
    """Errors for one parameter set, shaped ``{"parameters": {field: msg}, ...}``; {} if fine."""
    if check.errors:
        if "modality" in check.errors:
            return {"modality": check.errors["modality"]}
        return {"parameters": dict(check.errors)}
    if check.violations and override_reason and len(override_reason) < OVERRIDE_REASON_MIN_CHARS:
        codes = ", ".join(v.code for v in check.violations)
        return {
            "override_reason": (
                f"override_reason must be at least {OVERRIDE_REASON_MIN_CHARS} characters to go beyond the "
                f"safety limit(s) {codes}: say why it is right for this patient."
            ),
        }
    if check.violations and not override_reason:
        parameters: dict[str, list[str]] = {}
        for violation in check.violations:
            parameters.setdefault(violation.field, []).append(violation.message)
        codes = ", ".join(v.code for v in check.violations)
        return {
            "parameters": parameters,
            "override_reason": (
                f"Outside the safety limit(s): {codes}. Only a therapist may go beyond a limit, "
                "and only with a recorded override_reason."
            ),
        }
    return {}


# Far outside every validity bound, and still a float: bigger integers cannot be compared.
_HUGE = 2**53


def _limit_context(patient: Patient) -> dict[str, Any]:
    """What the catalogue's limits may read about the patient (the side of the pain for rTMS M1)."""
    return {"affected_side": patient.affected_side}


def _checked(
    modality: Any, parameters: Any, override_reason: str, context: Mapping[str, Any]
) -> tuple[Checked | None, dict[str, Any]]:
    if isinstance(modality, str) and modality in MODALITIES and not isinstance(parameters, dict):
        return None, {"parameters": "parameters must be an object mapping names to values."}
    if isinstance(parameters, dict):
        huge = {
            str(key): f"{key} is far outside the valid range."
            for key, value in parameters.items()
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _HUGE
        }
        if huge:
            return None, {"parameters": huge}
    check = check_parameters(modality, parameters, context=context)
    errors = _limits_errors(check, override_reason)
    if errors:
        return None, errors
    codes = [v.code for v in check.violations]
    # A reason given where nothing was overridden is not kept: the stored reason always
    # explains a stored override, never a prescription that needed none.
    return Checked(check, override_reason if codes else "", codes), {}


def _text(value: Any, field: str, errors: dict[str, Any], *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = f"{field} must be text."
        return ""
    text = value.strip()
    if required and not text:
        errors[field] = f"{field} is required."
    elif len(text) > MAX_TEXT:
        errors[field] = f"{field} must be at most {MAX_TEXT} characters."
    return text


def _whole(value: Any, field: str, lo: int, hi: int, errors: dict[str, Any]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[field] = f"{field} must be a whole number from {lo} to {hi}."
        return 0
    if not lo <= value <= hi:
        errors[field] = f"{field} must be from {lo} to {hi}."
    return value


# -----------------------------------------------------------------------------
# Plans
# -----------------------------------------------------------------------------


def _component_rows(
    components: Sequence[Mapping[str, Any]], context: Mapping[str, Any]
) -> tuple[list[PlanComponent], dict[str, Any]]:
    rows: list[PlanComponent] = []
    errors: dict[str, Any] = {}
    for index, raw in enumerate(components):
        if not isinstance(raw, Mapping):
            errors[str(index)] = {"non_field_errors": "Each component must be an object."}
            continue
        mine: dict[str, Any] = {}
        modality = raw.get("modality")
        override_reason = _text(raw.get("override_reason"), "override_reason", mine)
        notes = _text(raw.get("notes"), "notes", mine)
        frequency = _whole(raw.get("frequency_per_week"), "frequency_per_week", 0, MAX_FREQUENCY_PER_WEEK, mine)
        duration = _whole(raw.get("duration_weeks"), "duration_weeks", 1, MAX_DURATION_WEEKS, mine)
        checked, limit_errors = _checked(modality, raw.get("parameters"), override_reason, context)
        mine.update(limit_errors)
        if mine or checked is None or not isinstance(modality, str):
            errors[str(index)] = mine
            continue
        rows.append(
            PlanComponent(
                order=index,
                modality=modality,
                layer=MODALITIES[modality].layer,
                parameters=checked.check.params,
                derived=checked.check.derived,
                frequency_per_week=frequency,
                duration_weeks=duration,
                sessions_prescribed=frequency * duration,
                override_reason=checked.override_reason,
                overridden_limits=checked.overridden_limits,
                notes=notes,
            )
        )
    return rows, errors


def _plan_input(
    *,
    patient: Patient,
    reason: str,
    components: Sequence[Mapping[str, Any]],
    start_date: dt.date | None,
    now: dt.datetime,
) -> tuple[str, dt.date, list[PlanComponent]]:
    """The new version's reason, start date and component rows; InvalidInput naming each bad field."""
    errors: dict[str, Any] = {}
    reason = _text(reason, "reason", errors, required=True)
    today = patient_today(patient, now)
    start_date = start_date or today
    if abs(start_date - today) > START_DATE_WINDOW:
        errors["start_date"] = "start_date must be within a year of today."
    if not isinstance(components, Sequence) or isinstance(components, str | bytes):
        errors["components"] = "components must be a list."
        components = []
    rows, component_errors = _component_rows(components, _limit_context(patient))
    if component_errors:
        errors["components"] = component_errors
    if errors:
        raise InvalidInput(errors)
    return reason, start_date, rows


def _plan_insert(
    *, actor: Actor, patient: Patient, current: int, expected: int, reason: str, start_date: dt.date, now: dt.datetime
) -> RehabPlan:
    """Insert version ``current + 1``; the insert is where concurrent editors meet."""
    try:
        with transaction.atomic():  # savepoint: the loser's IntegrityError must not end the transaction
            return RehabPlan.objects.create(
                patient=patient,
                version=current + 1,
                reason=reason,
                author=actor.user if actor.user_id is not None else None,
                created_at=now,
                start_date=start_date,
            )
    except IntegrityError as exc:
        if RehabPlan.objects.filter(patient=patient, version=current + 1).exists():
            raise ConflictError(_version_conflict(current + 1, expected)) from exc
        raise


def plan_version_create(
    *,
    actor: Actor,
    patient: Patient,
    expected_version: int | None,
    reason: str,
    components: Sequence[Mapping[str, Any]],
    start_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> RehabPlan:
    """Save a new plan version, compare-and-set on the version it replaces.

    ``expected_version`` is the version the editor saw (None or 0 for "no plan yet"). If
    the stored plan has moved on, nothing is written and ConflictError names "version";
    two editors racing past that check meet at unique(patient, version) and the loser
    gets the same ConflictError.
    """
    now = now or timezone.now()
    reason, start_date, rows = _plan_input(
        patient=patient, reason=reason, components=components, start_date=start_date, now=now
    )
    expected = expected_version or 0
    with transaction.atomic():
        current = current_version(patient)
        if expected != current:
            raise ConflictError(_version_conflict(current, expected))
        plan = _plan_insert(
            actor=actor,
            patient=patient,
            current=current,
            expected=expected,
            reason=reason,
            start_date=start_date,
            now=now,
        )
        for row in rows:
            row.plan = plan
        PlanComponent.objects.bulk_create(rows)
        programme_carry_forward(plan=plan, from_version=current)
        audit_event_record(
            actor=actor,
            action="plan.create",
            object_type="rehab_plan",
            object_id=plan.pk,
            patient=patient,
            detail={
                "version": plan.version,
                "replaces": expected,
                "components": [row.modality for row in rows],
                "overrides": {str(row.order): row.overridden_limits for row in rows if row.overridden_limits},
            },
        )
    return plan


def _version_conflict(current: int, expected: int) -> dict[str, Any]:
    return {
        "version": (
            f"The plan was changed by someone else: it is now at version {current}, "
            f"your edit replaces version {expected}. Reload the plan and apply your change again."
        ),
        "current_version": str(current),
    }


# -----------------------------------------------------------------------------
# Delivered sessions
# -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    obj: Any
    created: bool


def _own_component(patient: Patient, component_id: int | None, errors: dict[str, Any]) -> PlanComponent | None:
    if component_id is None:
        return None
    component = PlanComponent.objects.select_related("plan").filter(pk=component_id, plan__patient=patient).first()
    if component is None:
        errors["component"] = "No such component in this patient's plan."
    return component


def _prescribed_override(component: PlanComponent, modality: str, parameters: Any, context: Mapping[str, Any]) -> str:
    """A session delivered within a prescription whose overrides cover it needs no new reason.

    Only when every limit the session exceeds was overridden, with a reason, in the plan
    component it names; the session then records that reason, marked as inherited.
    """
    if not component.override_reason:
        return ""
    codes = {v.code for v in check_parameters(modality, parameters, context=context).violations}
    if codes and codes <= set(component.overridden_limits):
        return f"As prescribed in plan version {component.plan.version}: {component.override_reason}"
    return ""


def _replayed(existing: Any, patient: Patient, kind: str) -> Recorded:
    if existing.patient_id != patient.pk:
        raise ConflictError({"client_uuid": f"This client_uuid is already used by another {kind}."})
    return Recorded(existing, created=False)


_Row = TypeVar("_Row", TherapySession, HomeExerciseLog)


def _create_once(model: type[_Row], *, patient: Patient, client_uuid: uuid.UUID, kind: str, **fields: Any) -> Recorded:
    """Insert one row keyed by client_uuid; a concurrent resend that won the insert is replayed."""
    try:
        with transaction.atomic():  # savepoint: a concurrent resend may win the insert
            row = model._default_manager.create(patient=patient, client_uuid=client_uuid, **fields)
    except IntegrityError:
        existing = model._default_manager.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _replayed(existing, patient, kind)
    return Recorded(row, created=True)


@dataclass(frozen=True)
class _SessionInput:
    """A delivered session's input, validated: what ``session_record`` stores."""

    component: PlanComponent | None
    modality: str
    checked: Checked
    delivered_at: dt.datetime
    adverse_event: str
    adverse_event_note: str
    tolerance: str


def _session_modality(
    component: PlanComponent | None, modality: str | None, parameters: Any, errors: dict[str, Any]
) -> tuple[str | None, Any]:
    """The modality and parameters delivered: a named component supplies both unless given."""
    if component is not None:
        if modality and modality != component.modality:
            errors["modality"] = f"The component is {component.modality!r}, not {modality!r}."
        modality = component.modality
        if parameters is None:
            parameters = component.parameters
    if not modality:
        errors.setdefault("modality", "modality is required (or name a plan component).")
    return modality, parameters


def _session_context_errors(
    delivered_at: dt.datetime, now: dt.datetime, adverse_event: str, tolerance: str, errors: dict[str, Any]
) -> None:
    if delivered_at.tzinfo is None:
        errors["delivered_at"] = "Give a time zone offset (ISO 8601, e.g. 2026-03-01T09:00:00+08:00)."
    elif is_too_far_in_future(delivered_at, now):
        errors["delivered_at"] = "delivered_at is more than 5 minutes in the future."
    if adverse_event not in AdverseEvent.values:
        errors["adverse_event"] = f"adverse_event must be one of: {', '.join(AdverseEvent.values)}."
    if tolerance and tolerance not in Tolerance.values:
        errors["tolerance"] = f"tolerance must be one of: {', '.join(Tolerance.values)}."


def _session_input(
    *,
    patient: Patient,
    delivered_at: dt.datetime,
    modality: str | None,
    component_id: int | None,
    parameters: Any,
    adverse_event: str,
    adverse_event_note: str,
    tolerance: str,
    override_reason: str,
    now: dt.datetime,
) -> _SessionInput:
    """Validate a delivered session; InvalidInput naming each bad field."""
    errors: dict[str, Any] = {}
    component = _own_component(patient, component_id, errors)
    modality, parameters = _session_modality(component, modality, parameters, errors)
    _session_context_errors(delivered_at, now, adverse_event, tolerance, errors)
    adverse_event_note = _text(adverse_event_note, "adverse_event_note", errors)
    override_reason = _text(override_reason, "override_reason", errors)
    checked: Checked | None = None
    if modality and "modality" not in errors:
        parameters = parameters if parameters is not None else {}
        if component is not None and not override_reason:
            override_reason = _prescribed_override(component, modality, parameters, _limit_context(patient))
        checked, limit_errors = _checked(modality, parameters, override_reason, _limit_context(patient))
        errors.update(limit_errors)
    if errors or checked is None or modality is None:
        raise InvalidInput(errors)
    return _SessionInput(component, modality, checked, delivered_at, adverse_event, adverse_event_note, tolerance)


def _severe_adverse_event_alert(patient: Patient, session: TherapySession, note: str) -> None:
    """A critical alert to the care team; it stays until a therapist acknowledges it."""
    alert_raise(
        patient=patient,
        kind=AlertKind.SEVERE_ADVERSE_EVENT,
        severity=Severity.CRITICAL,
        message_code=(alert_text.SEVERE_ADVERSE_EVENT_NOTE if note else alert_text.SEVERE_ADVERSE_EVENT),
        message_args={
            "modality": MODALITIES[session.modality].label,
            "when": f"{session.delivered_at.astimezone(dt.UTC):%Y-%m-%d %H:%M}",
            "note": note,
        },
        dedupe_key=f"session:{session.pk}:severe",
        source_type="session",
        source_id=session.pk,
    )


def _session_store(
    *, actor: Actor, patient: Patient, client_uuid: uuid.UUID, given: _SessionInput, now: dt.datetime
) -> Recorded:
    """Insert the validated session, raise its severe-adverse-event alert and audit it, in one transaction."""
    checked = given.checked
    with transaction.atomic():
        recorded = _create_once(
            TherapySession,
            patient=patient,
            client_uuid=client_uuid,
            kind="session",
            component=given.component,
            modality=given.modality,
            delivered_at=given.delivered_at.astimezone(dt.UTC),
            delivered_by=actor.user if actor.user_id is not None else None,
            parameters=checked.check.params,
            derived=checked.check.derived,
            adverse_event=given.adverse_event,
            adverse_event_note=given.adverse_event_note,
            tolerance=given.tolerance,
            override_reason=checked.override_reason,
            overridden_limits=checked.overridden_limits,
            recorded_at=now,
        )
        if not recorded.created:
            return recorded
        session = recorded.obj
        if given.adverse_event == AdverseEvent.SEVERE:
            _severe_adverse_event_alert(patient, session, given.adverse_event_note)
        audit_event_record(
            actor=actor,
            action="session.create",
            object_type="therapy_session",
            object_id=session.pk,
            patient=patient,
            detail={
                "modality": given.modality,
                "client_uuid": str(client_uuid),
                "adverse_event": given.adverse_event,
                "overridden_limits": checked.overridden_limits,
            },
        )
    return recorded


def session_record(
    *,
    actor: Actor,
    patient: Patient,
    delivered_at: dt.datetime,
    client_uuid: uuid.UUID,
    modality: str | None = None,
    component_id: int | None = None,
    parameters: Any = None,
    adverse_event: str = AdverseEvent.NONE,
    adverse_event_note: str = "",
    tolerance: str = "",
    override_reason: str = "",
    now: dt.datetime | None = None,
) -> Recorded:
    """Store one delivered session, exactly once per client_uuid.

    Without ``parameters`` the component's prescribed parameters are taken as delivered.
    A severe adverse event raises a critical alert to the care team in the same
    transaction (it stays until a therapist acknowledges it).
    """
    now = now or timezone.now()
    existing = TherapySession.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _replayed(existing, patient, "session")
    given = _session_input(
        patient=patient,
        delivered_at=delivered_at,
        modality=modality,
        component_id=component_id,
        parameters=parameters,
        adverse_event=adverse_event,
        adverse_event_note=adverse_event_note,
        tolerance=tolerance,
        override_reason=override_reason,
        now=now,
    )
    return _session_store(actor=actor, patient=patient, client_uuid=client_uuid, given=given, now=now)


# -----------------------------------------------------------------------------
# Home exercise
# -----------------------------------------------------------------------------


def _check_within_plan(component: PlanComponent, date: dt.date, errors: dict[str, Any]) -> None:
    """A home log is for a day on which its plan version had not ended yet.

    The same last day as ``therapies.selectors.plan_for_patient``, so the phone never
    offers what the server then refuses. A later version taking over does not end the
    earlier one's days (an entry made offline before the change still arrives), and days
    before the start are kept (exercise often begins before the plan is written down).
    """
    plan = component.plan
    last = plan_end(plan.start_date, plan.components.values_list("duration_weeks", flat=True))
    if last is not None and date > last:
        errors["date"] = (
            f"Plan version {plan.version} ended on {last.isoformat()}; there is no exercise to log after it ends."
        )


def _home_log_component(
    *, patient: Patient, component_id: int, date: dt.date, minutes: int | None, now: dt.datetime, errors: dict[str, Any]
) -> PlanComponent | None:
    """The plan component a home log is for, if the patient may log it on ``date``."""
    component = _own_component(patient, component_id, errors)
    if component is not None and component.modality not in HOME_MODALITIES:
        errors["component"] = (
            f"{MODALITIES[component.modality].label} is delivered in the clinic, not logged at home; "
            f"home logs are for: {', '.join(sorted(HOME_MODALITIES))}."
        )
    if date > patient_today(patient, now):
        errors["date"] = "date is in the future (in your time zone)."
    elif component is not None and "component" not in errors:
        _check_within_plan(component, date, errors)
    if minutes is not None and not 0 <= minutes <= 600:
        errors["minutes"] = "minutes must be from 0 to 600."
    return component


def home_exercise_log(
    *,
    actor: Actor,
    patient: Patient,
    component_id: int,
    date: dt.date,
    done: bool,
    client_uuid: uuid.UUID,
    minutes: int | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Recorded:
    """The patient's record of one home session, exactly once per client_uuid."""
    now = now or timezone.now()
    existing = HomeExerciseLog.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _replayed(existing, patient, "log")
    errors: dict[str, Any] = {}
    component = _home_log_component(
        patient=patient, component_id=component_id, date=date, minutes=minutes, now=now, errors=errors
    )
    note = _text(note, "note", errors)
    if errors or component is None:
        raise InvalidInput(errors)

    with transaction.atomic():
        recorded = _create_once(
            HomeExerciseLog,
            patient=patient,
            client_uuid=client_uuid,
            kind="log",
            component=component,
            date=date,
            done=done,
            minutes=minutes,
            note=note,
            logged_at=now,
            logged_by=actor.user if actor.user_id is not None else None,
        )
        if not recorded.created:
            return recorded
        audit_event_record(
            actor=actor,
            action="home_exercise.create",
            object_type="home_exercise_log",
            object_id=recorded.obj.pk,
            patient=patient,
            detail={"component": component.pk, "date": date.isoformat(), "done": done, "client_uuid": str(client_uuid)},
        )
    return recorded


# -----------------------------------------------------------------------------
# DREZ referral
# -----------------------------------------------------------------------------

DREZ_INPUTS = ("course_months", "vas_mm", "age_years", "first_line_drugs_tried", "phq9_assessed", "gad7_assessed")


def drez_inputs_from_record(patient: Patient, now: dt.datetime | None = None) -> dict[str, Any]:
    """What the record already says about candidacy: age, pain course, latest pain, mood screens."""
    today = patient_today(patient, now)
    found: dict[str, Any] = {}
    if patient.birth_year:
        found["age_years"] = today.year - patient.birth_year
    if patient.pain_onset:
        found["course_months"] = round((today - patient.pain_onset).days / 30.44, 1)
    latest = (
        Assessment.objects.filter(patient=patient, instrument__in=("vas", "nrs"), total__isnull=False)
        .order_by("-recorded_at", "-id")
        .values_list("instrument", "total")
        .first()
    )
    if latest is not None:
        instrument, total = latest
        if total is not None:
            found["vas_mm"] = float(total) * (10 if instrument == "nrs" else 1)
    assessed = set(
        # Scored entries only: an unfinished PHQ-9 (a safety signal alone) is not an assessment.
        Assessment.objects.filter(patient=patient, instrument__in=("phq9", "gad7"), total__isnull=False).values_list(
            "instrument", flat=True
        )
    )
    found["phq9_assessed"] = "phq9" in assessed
    found["gad7_assessed"] = "gad7" in assessed
    return found


def _drez_input(
    *,
    patient: Patient,
    decision: str,
    inputs: Mapping[str, Any],
    contraindications: Sequence[str],
    decision_note: str,
    follow_ups: Mapping[str, Any] | None,
    now: dt.datetime | None,
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The candidacy inputs (given, else from the record), decision note and follow-ups;
    InvalidInput naming each bad field."""
    errors: dict[str, Any] = {}
    merged = {**drez_inputs_from_record(patient, now), **{k: v for k, v in inputs.items() if v is not None}}
    unknown = [code for code in contraindications if code not in DREZ_CONTRAINDICATIONS]
    if unknown:
        errors["contraindications"] = (
            f"Unknown code(s) {', '.join(unknown)}; one of: {', '.join(DREZ_CONTRAINDICATIONS)}."
        )
    # The catalogue's drez_referral entry holds the validity bounds of every input.
    check = check_parameters("drez_referral", {**{k: merged.get(k) for k in DREZ_INPUTS}, "contraindications": ""})
    for key, message in check.errors.items():
        errors[key] = f"{key} is required: the record does not say." if key not in merged else message
    if decision not in DrezDecision.values:
        errors["decision"] = f"decision must be one of: {', '.join(DrezDecision.values)}."
    decision_note = _text(decision_note, "decision_note", errors)
    follow_ups = dict(follow_ups or {})
    bad_items = [key for key in follow_ups if key not in DREZ_FOLLOW_UP_ITEMS]
    if bad_items:
        errors["follow_ups"] = f"Unknown item(s) {', '.join(bad_items)}; one of: {', '.join(DREZ_FOLLOW_UP_ITEMS)}."
    elif any(not isinstance(value, str) or len(value) > MAX_TEXT for value in follow_ups.values()):
        errors["follow_ups"] = f"Each follow-up is a text of at most {MAX_TEXT} characters."
    if errors:
        raise InvalidInput(errors)
    return check.params, decision_note, follow_ups


def _drez_checks(values: Mapping[str, Any], contraindications: Sequence[str]) -> list[CandidacyCheck]:
    return drez_candidacy(
        course_months=float(values["course_months"]),
        vas_mm=float(values["vas_mm"]),
        age_years=int(values["age_years"]),
        first_line_drugs_tried=bool(values["first_line_drugs_tried"]),
        phq9_assessed=bool(values["phq9_assessed"]),
        gad7_assessed=bool(values["gad7_assessed"]),
        contraindications=list(contraindications),
    )


@transaction.atomic
def drez_referral_create(
    *,
    actor: Actor,
    patient: Patient,
    decision: str,
    inputs: Mapping[str, Any],
    contraindications: Sequence[str] = (),
    decision_note: str = "",
    follow_ups: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> DrezReferral:
    """Record a DREZ candidacy assessment and decision (DREZ expert consensus criteria).

    Inputs not given are taken from the record (age from birth year, course from pain
    onset, latest VAS/NRS, whether PHQ-9 and GAD-7 were done). Referring a patient who does
    not meet every criterion needs a ``decision_note`` explaining why.
    """
    values, decision_note, follow_ups = _drez_input(
        patient=patient,
        decision=decision,
        inputs=inputs,
        contraindications=contraindications,
        decision_note=decision_note,
        follow_ups=follow_ups,
        now=now,
    )
    checks = _drez_checks(values, contraindications)
    met = all(check.passed for check in checks)
    if decision == DrezDecision.REFER and not met and not decision_note:
        failed = ", ".join(check.code for check in checks if not check.passed)
        raise InvalidInput(
            {"decision_note": f"Candidacy criteria not met ({failed}); explain the referral in decision_note."}
        )
    referral = DrezReferral.objects.create(
        patient=patient,
        inputs={**{key: values[key] for key in DREZ_INPUTS}, "contraindications": list(contraindications)},
        checks=[check.as_dict() for check in checks],
        candidacy_met=met,
        decision=decision,
        decision_note=decision_note,
        follow_ups=follow_ups,
        created_by=actor.user if actor.user_id is not None else None,
        created_at=now or timezone.now(),
    )
    audit_event_record(
        actor=actor,
        action="drez_referral.create",
        object_type="drez_referral",
        object_id=referral.pk,
        patient=patient,
        detail={"decision": decision, "candidacy_met": met},
    )
    return referral
