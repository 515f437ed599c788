"""Applying a questionnaire protocol to a patient and planning their due items.

A patient's protocol starts as the template for their diagnoses
(:func:`assessments.reminders.schedules.protocol_for_diagnoses`) and is edited per patient
(instruments, intervals, local times, quiet hours, reminder channels). Due items and
their reminders are materialised a little ahead (48 h) by :func:`due_items_plan`, which
is idempotent: the unique slot (patient, instrument, due_at) and the unique reminder
``dedupe_key`` make a re-run, or two runs at once, insert nothing twice. Re-planning also
heals: slots that no longer match the protocol or the patient's time zone are cancelled,
and pending reminders follow changed quiet hours and channels.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assessments.models import (
    Channel,
    DueItem,
    DueStatus,
    PatientProtocol,
    Reminder,
    ReminderStatus,
)
from assessments.reminders.due import due_items_cancel, due_items_match_recorded
from assessments.reminders.schedules import (
    PROTOCOLS,
    DueSlot,
    Protocol,
    ProtocolItem,
    apply_quiet_hours,
    due_slots,
    next_due_preview,
    protocol_for_diagnoses,
)
from config.errors import InvalidInput
from patients.audit import Actor, audit_event_record
from patients.models import Patient
from patients.services import consents_in_force

logger = logging.getLogger(__name__)

PLAN_HORIZON = dt.timedelta(hours=48)
#: Instruments a patient is reminded to fill in themself (clinic measurements are not).
SCHEDULABLE = ("vas", "nrs", "dn4", "phq9", "gad7", "odi")
#: Channels that leave the app and so need the patient's "reminders" consent.
EXTERNAL_CHANNELS = frozenset({Channel.PUSH, Channel.EMAIL, Channel.SMS})
MAX_WINDOW_HOURS = 14 * 24
_CODE_RE = re.compile(r"^[a-z0-9_+-]{1,32}$")
_E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")


# --- items <-> JSON ----------------------------------------------------------------------


def item_to_json(item: ProtocolItem) -> dict[str, Any]:
    return {
        "instrument": item.instrument,
        "every_days": item.every_days,
        "start_offset_days": item.start_offset_days,
        "local_time": item.local_time.strftime("%H:%M"),
        "window_hours": item.window_hours,
        "at_baseline": item.at_baseline,
    }


def _parse_time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
        return dt.time.fromisoformat(value)
    raise ValueError("Give a local wall-clock time as HH:MM, e.g. 09:00.")


def _int_field(
    raw: dict[str, Any], key: str, default: int | None, lo: int, hi: int, errors: dict[str, str]
) -> int | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        errors[key] = f"Must be a whole number from {lo} to {hi}."
        return default
    return value


def items_from_json(raw_items: Any) -> tuple[ProtocolItem, ...]:
    """Validate per-patient items; errors name the item index and field."""
    if not isinstance(raw_items, list) or not raw_items:
        raise InvalidInput({"items": "Give a non-empty list of protocol items."})
    errors: dict[str, Any] = {}
    items: list[ProtocolItem] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_items):
        item_errors: dict[str, str] = {}
        if not isinstance(raw, dict):
            errors[str(index)] = {"__all__": "Each item must be an object."}
            continue
        instrument = raw.get("instrument")
        if instrument not in SCHEDULABLE:
            item_errors["instrument"] = f"One of: {', '.join(SCHEDULABLE)}."
        elif instrument in seen:
            item_errors["instrument"] = "This instrument is listed twice."
        every_days = _int_field(raw, "every_days", None, 1, 365, item_errors)
        offset = _int_field(raw, "start_offset_days", 0, 0, 365, item_errors) or 0
        window = _int_field(raw, "window_hours", 24, 1, MAX_WINDOW_HOURS, item_errors) or 24
        at_baseline = raw.get("at_baseline", True)
        if not isinstance(at_baseline, bool):
            item_errors["at_baseline"] = "Must be true or false."
            at_baseline = True
        try:
            local_time = _parse_time(raw.get("local_time", "09:00"))
        except ValueError as exc:
            item_errors["local_time"] = str(exc)
            local_time = dt.time(9, 0)
        unknown = set(raw) - {
            "instrument",
            "every_days",
            "start_offset_days",
            "local_time",
            "window_hours",
            "at_baseline",
        }
        for key in sorted(unknown):
            item_errors[key] = "Unknown field."
        if not item_errors:
            try:
                items.append(ProtocolItem(str(instrument), every_days, offset, local_time, window, at_baseline))
            except ValueError as exc:
                item_errors["__all__"] = str(exc)
        if item_errors:
            errors[str(index)] = item_errors
        seen.add(str(instrument))
    if errors:
        raise InvalidInput({"items": errors})
    return tuple(items)


def schedule_of(protocol: PatientProtocol) -> Protocol:
    """The stored per-patient protocol as the pure schedule type."""
    return Protocol(code=protocol.protocol_code, items=items_from_json(protocol.items))


def protocol_template(patient: Patient) -> Protocol:
    """The template for the patient's diagnoses, or InvalidInput naming the field."""
    try:
        return protocol_for_diagnoses(list(patient.diagnoses))
    except ValueError as exc:
        raise InvalidInput(
            {"protocol_code": f"No template for this patient's diagnoses ({exc}); name protocol_code or give items."}
        ) from exc


# --- apply / preview -----------------------------------------------------------------------


def _check_channels(channels: Any, patient: Patient, sms_number: str) -> list[str]:
    if not isinstance(channels, list) or any(c not in Channel.values for c in channels):
        raise InvalidInput({"channels": f"A list of: {', '.join(Channel.values)}."})
    if len(set(channels)) != len(channels):
        raise InvalidInput({"channels": "A channel is listed twice."})
    needs_login = [c for c in channels if c in (Channel.IN_APP, Channel.PUSH, Channel.EMAIL)]
    if needs_login and patient.user_id is None:
        raise InvalidInput({"channels": f"{', '.join(needs_login)} need the patient to have a login; use sms."})
    if Channel.EMAIL in channels and not (patient.user and patient.user.email):
        raise InvalidInput({"channels": "email: the patient's login has no e-mail address."})
    if Channel.SMS in channels and not sms_number:
        raise InvalidInput({"sms_number": "Give the number (E.164, e.g. +8613800138000) to send SMS reminders to."})
    return list(channels)


def protocol_get(patient: Patient) -> PatientProtocol | None:
    return PatientProtocol.objects.filter(patient=patient).first()


def _schedule_items(
    patient: Patient, current: PatientProtocol | None, code: str, items: Sequence[dict[str, Any]] | None
) -> Sequence[Any]:
    """Given items, else the stored ones when the code is unchanged, else the template's."""
    if items is not None:
        return items_from_json(list(items))
    if current is not None and current.protocol_code == code:
        return schedule_of(current).items
    if code in PROTOCOLS:
        return PROTOCOLS[code].items
    if code == protocol_template(patient).code:
        return protocol_template(patient).items
    raise InvalidInput(
        {"protocol_code": f"Unknown protocol; one of {', '.join(PROTOCOLS)}, or give items for a custom one."}
    )


def _check_quiet_hours(quiet_start: dt.time | None, quiet_end: dt.time | None) -> None:
    if (quiet_start is None) != (quiet_end is None):
        raise InvalidInput(
            {"quiet_end" if quiet_end is None else "quiet_start": "Give both quiet_start and quiet_end, or neither."}
        )
    if quiet_start is not None and quiet_start == quiet_end:
        raise InvalidInput({"quiet_end": "Quiet hours must not start and end at the same time."})


def _protocol_save(
    patient: Patient, current: PatientProtocol | None, values: dict[str, Any], now: dt.datetime
) -> tuple[PatientProtocol, dict[str, Any]]:
    """Create or update the patient's protocol row; returns it and the changed fields."""
    if current is None:
        current = PatientProtocol(patient=patient, **values, updated_at=now)
        current.full_clean(exclude=["patient"])
        current.save()
        return current, {key: [None, _jsonable(value)] for key, value in values.items()}
    changes = {
        key: [_jsonable(getattr(current, key)), _jsonable(value)]
        for key, value in values.items()
        if getattr(current, key) != value
    }
    if changes:
        for key, value in values.items():
            setattr(current, key, value)
        current.updated_at = now
        current.full_clean(exclude=["patient"])
        current.save(update_fields=[*values, "updated_at"])
    return current, changes


@transaction.atomic
def protocol_apply(
    *,
    actor: Actor,
    patient: Patient,
    start_date: dt.date,
    protocol_code: str | None = None,
    items: Sequence[dict[str, Any]] | None = None,
    quiet_start: dt.time | None = None,
    quiet_end: dt.time | None = None,
    channels: Sequence[str] | None = None,
    sms_number: str | None = None,
    is_active: bool = True,
    now: dt.datetime | None = None,
) -> PatientProtocol:
    """Give the patient a protocol (template per diagnosis, editable), then plan ahead.

    Omitted ``items`` keep the stored ones when the protocol code is unchanged, else the
    template's; omitted ``channels`` / ``sms_number`` keep the stored ones (default: in-app
    when the patient has a login). Quiet hours are both given or both empty.
    """
    now = now or timezone.now()
    current = PatientProtocol.objects.select_for_update().filter(patient=patient).first()
    code = protocol_code
    if code is None:
        code = current.protocol_code if current is not None else protocol_template(patient).code
    if not _CODE_RE.match(code):
        raise InvalidInput({"protocol_code": "Lower-case letters, digits, _ + - only (at most 32)."})
    schedule_items = _schedule_items(patient, current, code, items)
    _check_quiet_hours(quiet_start, quiet_end)
    number = (sms_number if sms_number is not None else (current.sms_number if current else "")).strip()
    if number and not _E164_RE.match(number):
        raise InvalidInput({"sms_number": "Use the international E.164 form, e.g. +8613800138000."})
    if channels is None:
        channels = current.channels if current is not None else ([Channel.IN_APP] if patient.user_id else [])
    values: dict[str, Any] = {
        "protocol_code": code,
        "items": [item_to_json(item) for item in schedule_items],
        "start_date": start_date,
        "quiet_start": quiet_start,
        "quiet_end": quiet_end,
        "channels": _check_channels(list(channels), patient, number),
        "sms_number": number,
        "is_active": is_active,
    }
    current, changes = _protocol_save(patient, current, values, now)
    if changes:
        audit_event_record(
            actor=actor,
            action="protocol.apply",
            object_type="protocol",
            object_id=current.pk,
            patient=patient,
            detail={"changes": changes},
        )
        due_items_plan(patient.pk, now=now)
    return current


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def protocol_preview(patient: Patient, now: dt.datetime, count: int = 5) -> list[DueSlot]:
    """The next ``count`` due items of the patient's protocol (the template, starting
    today, when none has been applied yet)."""
    stored = protocol_get(patient)
    if stored is not None:
        if not stored.is_active:
            return []
        return next_due_preview(
            schedule_of(stored), start=stored.start_date, tz=patient.time_zone, now=now, count=count
        )
    try:
        template = protocol_template(patient)
    except InvalidInput:
        return []
    today = now.astimezone(ZoneInfo(patient.time_zone)).date()
    return next_due_preview(template, start=today, tz=patient.time_zone, now=now, count=count)


# --- planning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanResult:
    items_created: int = 0
    items_cancelled: int = 0
    items_completed: int = 0
    reminders_created: int = 0
    reminders_updated: int = 0
    reminders_deleted: int = 0


def _deliverable_channels(protocol: PatientProtocol, patient: Patient) -> list[str]:
    channels = [c for c in protocol.channels if c in Channel.values]
    if any(c in EXTERNAL_CHANNELS for c in channels) and not consents_in_force(patient).get("reminders", False):
        channels = [c for c in channels if c not in EXTERNAL_CHANNELS]
    user = patient.user
    usable = []
    for channel in channels:
        if channel in (Channel.IN_APP, Channel.PUSH) and user is None:
            continue
        if channel == Channel.EMAIL and not (user is not None and user.email):
            continue
        if channel == Channel.SMS and not protocol.sms_number:
            continue
        usable.append(channel)
    return usable


def reminder_send_at(item: DueItem | DueSlot, protocol: PatientProtocol, tz: str, now: dt.datetime) -> dt.datetime:
    """When to remind: at the due time (or now, for an item already open), moved out of
    the patient's quiet hours."""
    when = max(item.due_at, now)
    if protocol.quiet_start is not None and protocol.quiet_end is not None:
        when = apply_quiet_hours(when, tz, protocol.quiet_start, protocol.quiet_end)
    return when


def _stale_items(
    existing: dict[tuple[str, dt.datetime], DueItem],
    wanted: dict[tuple[str, dt.datetime], Any],
    instruments: set[str],
    now: dt.datetime,
) -> list[int]:
    """Pending items the schedule no longer wants: future ones, dropped instruments, and
    today's item of an instrument whose time moved."""
    wanted_days = {(s.instrument, s.local_date) for s in wanted.values()}
    return [
        item.pk
        for key, item in existing.items()
        if item.status == DueStatus.PENDING
        and key not in wanted
        and (
            item.due_at > now or item.instrument not in instruments or (item.instrument, item.local_date) in wanted_days
        )
    ]


def _create_and_revive(
    patient_id: int,
    existing: dict[tuple[str, dt.datetime], DueItem],
    wanted: dict[tuple[str, dt.datetime], Any],
    now: dt.datetime,
    end: dt.datetime,
    tz: str,
) -> tuple[int, int]:
    """Insert the missing items and revive cancelled ones the schedule wants again; entries
    already recorded in their windows complete them. Returns (created, completed)."""
    revive = [
        item.pk
        for key, item in existing.items()
        if key in wanted and item.status == DueStatus.CANCELLED and item.due_at > now
    ]
    if revive:
        DueItem.objects.filter(pk__in=revive, status=DueStatus.CANCELLED).update(status=DueStatus.PENDING)
    new = [
        DueItem(
            patient_id=patient_id,
            instrument=s.instrument,
            due_at=s.due_at,
            closes_at=s.closes_at,
            local_date=s.local_date,
            created_at=now,
        )
        for key, s in wanted.items()
        if key not in existing
    ]
    DueItem.objects.bulk_create(new, ignore_conflicts=True)
    if not (new or revive):
        return 0, 0
    fresh = list(
        DueItem.objects.filter(
            patient_id=patient_id, status=DueStatus.PENDING, closes_at__gt=now, due_at__lt=end
        ).filter(Q(pk__in=revive) | Q(created_at=now))
    )
    return len(new), len(due_items_match_recorded(fresh, tz))


def due_items_plan(patient_id: int, now: dt.datetime, horizon: dt.timedelta = PLAN_HORIZON) -> PlanResult:
    """Materialise the patient's due items with ``due_at < now + horizon`` (and those
    still open) and one reminder per deliverable channel; safe to run any number of times,
    also concurrently."""
    protocol = PatientProtocol.objects.select_related("patient", "patient__user").filter(patient_id=patient_id).first()
    if protocol is None:
        return PlanResult()
    patient = protocol.patient
    tz = patient.time_zone
    active = protocol.is_active and patient.is_active
    schedule = schedule_of(protocol) if active else Protocol(code=protocol.protocol_code)
    instruments = {item.instrument for item in schedule.items}
    longest = dt.timedelta(hours=max((item.window_hours for item in schedule.items), default=24))
    with transaction.atomic():
        existing = {
            (i.instrument, i.due_at): i for i in DueItem.objects.filter(patient_id=patient_id, closes_at__gt=now)
        }
        open_ends = (i.due_at + dt.timedelta(seconds=1) for i in existing.values() if i.status == DueStatus.PENDING)
        end = max([now + horizon, *open_ends])
        slots = due_slots(schedule, start=protocol.start_date, tz=tz, window_start=now - longest, window_end=end)
        wanted = {(s.instrument, s.due_at): s for s in slots if s.closes_at > now}
        cancelled = due_items_cancel(_stale_items(existing, wanted, instruments, now))
        created_items, completed = _create_and_revive(patient_id, existing, wanted, now, end, tz)
        items = list(
            DueItem.objects.filter(patient_id=patient_id, status=DueStatus.PENDING, closes_at__gt=now, due_at__lt=end)
        )
        created, updated, deleted = _plan_reminders(protocol, patient, items, now)
    return PlanResult(created_items, cancelled, completed, created, updated, deleted)


def _plan_reminders(
    protocol: PatientProtocol, patient: Patient, items: list[DueItem], now: dt.datetime
) -> tuple[int, int, int]:
    if not items:
        return 0, 0, 0
    channels = _deliverable_channels(protocol, patient)
    by_key = {
        key: (pk, status, send_at)
        for pk, key, status, send_at in Reminder.objects.filter(due_item_id__in=[i.pk for i in items]).values_list(
            "pk", "dedupe_key", "status", "send_at"
        )
    }
    wanted: dict[str, Reminder] = {}
    item_due: dict[str, dt.datetime] = {}
    for item in items:
        send_at = reminder_send_at(item, protocol, patient.time_zone, now)
        if send_at >= item.closes_at:
            continue  # quiet hours last until the window closes: a reminder would be useless
        for channel in channels:
            key = f"due:{item.pk}:{channel}"
            wanted[key] = Reminder(
                kind=Reminder.Kind.DUE_ITEM,
                patient_id=patient.pk,
                due_item_id=item.pk,
                recipient_id=patient.user_id,
                channel=channel,
                send_at=send_at,
                expires_at=item.closes_at,
                dedupe_key=key,
            )
            item_due[key] = item.due_at
    to_create = [r for key, r in wanted.items() if key not in by_key]
    to_delete = [
        pk for key, (pk, status, _at) in by_key.items() if key not in wanted and status == ReminderStatus.PENDING
    ]
    updated = 0
    for key, (pk, status, send_at) in by_key.items():
        want = wanted.get(key)
        # Items already open keep their reminder time (re-planning must not push it on).
        if want is not None and status == ReminderStatus.PENDING and send_at != want.send_at and item_due[key] > now:
            updated += Reminder.objects.filter(pk=pk, status=ReminderStatus.PENDING).update(send_at=want.send_at)
    Reminder.objects.bulk_create(to_create, ignore_conflicts=True)
    deleted = Reminder.objects.filter(pk__in=to_delete, status=ReminderStatus.PENDING).delete()[0] if to_delete else 0
    return len(to_create), updated, deleted


def patients_to_plan(now: dt.datetime) -> list[int]:
    """Patients the hourly planner visits: active protocols, plus any with future pending
    items (a deactivated protocol or patient is cleaned up by the next run)."""
    active = PatientProtocol.objects.filter(is_active=True, patient__is_active=True).values_list(
        "patient_id", flat=True
    )
    leftover = (
        DueItem.objects.filter(status=DueStatus.PENDING, due_at__gt=now)
        .exclude(patient_id__in=active)
        .values_list("patient_id", flat=True)
        .distinct()
    )
    return sorted({*active, *leftover})
