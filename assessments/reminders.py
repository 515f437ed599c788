"""Reminder and alert delivery: claimed, ledgered, safe to run twice (and at once).

The life of a reminder::

    pending --(dispatcher: conditional update)--> sending --(sender)--> sent
       |                                            |  \\--> skipped (item done, alert acked)
       \\--> expired (window closed)                |   \\-> failed (permanent / retries spent)
                                                    \\--> re-queued when stale (10 min)

- :func:`reminders_dispatch` claims due rows in batches: the ids are selected with
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (two dispatchers never contend for a row), then
  flipped with ``UPDATE … WHERE status='pending'``; only rows whose claim succeeded are
  enqueued, after commit, with the reminder's expiry as the task's ``expires``.
- :func:`reminder_deliver` (task ``assessments.reminder_send``, acks_late) locks the row,
  proceeds only if it is still ``sending`` and no ``sent`` ledger row exists, calls the
  channel, and writes the ``Delivery`` row and the new status in the same transaction.
  A task redelivered after a worker was killed therefore finds either nothing written
  (and sends) or the ledger row (and stops). A partial unique index allows one ``sent``
  Delivery per reminder, so the database enforces it too.
- Stale ``sending`` rows (claimed more than 10 minutes ago, not locked by a sender, no
  ``sent`` ledger row) are re-queued by the dispatcher: this recovers a claim whose
  enqueue was lost (broker down, process killed between commit and publish).

Safety alerts reach the care team at once (:func:`alert_fan_out`: in-app notification in
the fan-out transaction, e-mail / push reminder rows claimed and enqueued on commit) and
are escalated to the clinic's managers when nobody acknowledges them in time
(:func:`alerts_escalate`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.utils.uuid import uuid

from assessments.channels import (
    Message,
    PermanentChannelError,
    TransientChannelError,
    channel_for,
)
from assessments.instruments import INSTRUMENTS
from assessments.models import (
    SAFETY_KINDS,
    Alert,
    Channel,
    Delivery,
    DueStatus,
    Notification,
    PushSubscription,
    Reminder,
    ReminderStatus,
)
from patients.models import CareTeamMember, Membership, Patient, Role

logger = logging.getLogger(__name__)

CLAIM_BATCH = 1000
ENQUEUE_PIPELINE = 1000
#: A ``sending`` row this old with no ledger entry was lost on the way: re-queue it.
STALE_AFTER = dt.timedelta(minutes=getattr(settings, "REMINDER_STALE_MINUTES", 10))
#: Hand-overs to a worker (sends, transient retries and re-queues) before giving up.
MAX_ATTEMPTS = 10
ALERT_MESSAGE_TTL = dt.timedelta(hours=24)
#: An alert not fanned out this long after it was raised (its task was lost) is caught up.
FAN_OUT_GRACE = dt.timedelta(minutes=1)

Claim = tuple[int, dt.datetime]  # reminder id, expires_at
Enqueue = Callable[[Sequence[Claim]], None]


# --- enqueueing ------------------------------------------------------------------------------


def reminders_enqueue(claims: Sequence[Claim], *, queue: str | None = None) -> None:
    """Publish one ``reminder_send`` message per claimed reminder, expiring with it.

    Equivalent to ``reminder_send.apply_async((id,), expires=expires_at)`` per row, but
    routed, declared and configured once per batch and published through one producer,
    pipelined where kombu supports it (Redis, kombu >= 5.7: one round trip per 1000
    messages). That is what lets one dispatcher hand 100k reminders to the broker in
    seconds; the message is the same Celery protocol-2 message, with the same publish
    signals (measured: ~140 µs per message instead of ~450 µs through apply_async).
    """
    if not claims:
        return
    from assessments.tasks import reminder_send as send_task

    reminder_send: Any = send_task  # the project decorator types tasks as plain callables
    app = reminder_send.app
    name = reminder_send.name
    route = app.amqp.router.route({"queue": queue} if queue else {}, name, (0,), {})
    limits = {"time_limit": reminder_send.time_limit, "soft_time_limit": reminder_send.soft_time_limit}
    with app.producer_or_acquire() as producer:
        producer.maybe_declare(route["queue"])  # once, not once per message (declare=[] below)
        batch = producer.batch(max_size=ENQUEUE_PIPELINE) if hasattr(producer, "batch") else contextlib.nullcontext()
        with batch:
            for reminder_id, expires_at in claims:
                message = app.amqp.create_task_message(
                    uuid(),
                    name,
                    (reminder_id,),
                    {},
                    expires=expires_at,
                    ignore_result=True,
                    argsrepr=f"({reminder_id},)",
                    kwargsrepr="{}",
                    **limits,
                )
                app.amqp.send_task_message(producer, name, message, serializer="json", declare=[], **route)


def _enqueue_after_commit(enqueue: Enqueue, claims: list[Claim]) -> None:
    # robust: a broker outage must not turn a committed claim into an error for the caller;
    # the rows stay "sending" and the dispatcher re-queues them once they are stale.
    transaction.on_commit(functools.partial(enqueue, claims), robust=True)


# --- claiming ----------------------------------------------------------------------------------


def _locked(qs: Any) -> Any:
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True)
    return qs  # SQLite: IMMEDIATE transactions already serialise writers


def _claim(where: Q, *, now: dt.datetime, limit: int, enqueue: Enqueue, bump_attempts: bool = False) -> list[Claim]:
    """Claim up to ``limit`` reminders matching ``where`` and enqueue them after commit."""
    with transaction.atomic():
        rows: list[Claim] = list(
            _locked(Reminder.objects.filter(where).order_by("send_at", "id")).values_list("id", "expires_at")[:limit]
        )
        if not rows:
            return []
        ids = [pk for pk, _expires in rows]
        fields: dict[str, Any] = {"status": ReminderStatus.SENDING, "claimed_at": now}
        if bump_attempts:
            fields["attempts"] = F("attempts") + 1
        claimed = Reminder.objects.filter(where, id__in=ids).update(**fields)
        if claimed != len(ids):
            # Only without row locks could another claimer have won some rows in between.
            mine = set(
                Reminder.objects.filter(id__in=ids, status=ReminderStatus.SENDING, claimed_at=now).values_list(
                    "id", flat=True
                )
            )
            rows = [row for row in rows if row[0] in mine]
        _enqueue_after_commit(enqueue, rows)
    return rows


@dataclass
class DispatchResult:
    claimed: int = 0
    expired: int = 0
    requeued: int = 0
    failed: int = 0


def _requeue_stale(now: dt.datetime, *, limit: int, enqueue: Enqueue, result: DispatchResult) -> None:
    stale = Q(status=ReminderStatus.SENDING, claimed_at__lt=now - STALE_AFTER)
    # Rows that did get sent (ledger) but kept "sending" cannot happen (same transaction);
    # repair defensively rather than send again.
    sent = Delivery.objects.filter(outcome="sent", reminder__status=ReminderStatus.SENDING).values("reminder_id")
    Reminder.objects.filter(stale, id__in=sent).update(status=ReminderStatus.SENT)
    result.expired += Reminder.objects.filter(stale, expires_at__lte=now).update(status=ReminderStatus.EXPIRED)
    result.failed += Reminder.objects.filter(stale, attempts__gte=MAX_ATTEMPTS).update(
        status=ReminderStatus.FAILED, last_error="gave up: never confirmed sent"
    )
    while rows := _claim(
        stale & Q(expires_at__gt=now, attempts__lt=MAX_ATTEMPTS),
        now=now,
        limit=limit,
        enqueue=enqueue,
        bump_attempts=True,
    ):
        logger.warning("re-queued %d stale reminders", len(rows))
        result.requeued += len(rows)


def reminders_dispatch(
    *, now: dt.datetime | None = None, batch_size: int = CLAIM_BATCH, enqueue: Enqueue = reminders_enqueue
) -> DispatchResult:
    """Claim every due reminder and hand each to a send task (beat: every minute)."""
    now = now or timezone.now()
    result = DispatchResult()
    result.expired = Reminder.objects.filter(status=ReminderStatus.PENDING, expires_at__lte=now).update(
        status=ReminderStatus.EXPIRED
    )
    _requeue_stale(now, limit=batch_size, enqueue=enqueue, result=result)
    due = Q(status=ReminderStatus.PENDING, send_at__lte=now, expires_at__gt=now)
    while rows := _claim(due, now=now, limit=batch_size, enqueue=enqueue):
        result.claimed += len(rows)
    return result


# --- sending -------------------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    EXPIRED = "expired"
    FAILED = "failed"
    RETRY = "retry"
    NOT_CLAIMED = "not_claimed"
    ALREADY_SENT = "already_sent"
    MISSING = "missing"


def _skip_reason(reminder: Reminder, now: dt.datetime) -> str:
    if reminder.kind == Reminder.Kind.DUE_ITEM:
        item = reminder.due_item
        if item is None or item.status != DueStatus.PENDING:
            return f"due item {item.status if item else 'gone'}"
        if not reminder.patient.is_active:
            return "patient inactive"
        if reminder.channel in (Channel.PUSH, Channel.EMAIL, Channel.SMS):
            from patients.services import consents_in_force

            if not consents_in_force(reminder.patient).get("reminders", False):
                return "reminder consent withdrawn"
    elif reminder.alert_id is not None and reminder.alert is not None and reminder.alert.acknowledged_at is not None:
        return "alert acknowledged"
    return ""


def reminder_deliver(reminder_id: int, *, now: dt.datetime | None = None, final_attempt: bool = False) -> Outcome:
    """Send one claimed reminder exactly once (see the module docstring)."""
    now = now or timezone.now()
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().filter(pk=reminder_id).first()
        if reminder is None:
            logger.warning("reminder %s vanished before sending", reminder_id)
            return Outcome.MISSING
        if reminder.status != ReminderStatus.SENDING:
            logger.info("reminder %s is %s, not sending: nothing to do", reminder_id, reminder.status)
            return Outcome.NOT_CLAIMED
        attempt = reminder.attempts + 1
        fields = ["status", "attempts", "last_error"]
        if Delivery.objects.filter(reminder_id=reminder_id, outcome="sent").exists():
            reminder.status = ReminderStatus.SENT
            reminder.save(update_fields=["status"])
            return Outcome.ALREADY_SENT
        if reminder.expires_at <= now:
            reminder.status = ReminderStatus.EXPIRED
            reminder.save(update_fields=["status"])
            return Outcome.EXPIRED
        if reason := _skip_reason(reminder, now):
            Delivery.objects.create(reminder=reminder, attempt=attempt, at=now, outcome="skipped", error=reason)
            reminder.status, reminder.attempts, reminder.last_error = ReminderStatus.SKIPPED, attempt, reason
            reminder.save(update_fields=fields)
            return Outcome.SKIPPED
        error = ""
        try:
            channel = channel_for(reminder.channel)
            provider_ref = channel.send(reminder, reminder_message(reminder))
        except TransientChannelError as exc:
            error = str(exc)[:2000]
            outcome = Outcome.FAILED if final_attempt else Outcome.RETRY
            Delivery.objects.create(reminder=reminder, attempt=attempt, at=now, outcome="transient_error", error=error)
            reminder.status = ReminderStatus.FAILED if final_attempt else ReminderStatus.SENDING
            reminder.claimed_at = now  # heartbeat: a row waiting for its retry is not stale
            fields.append("claimed_at")
        except PermanentChannelError as exc:
            error = str(exc)[:2000]
            outcome = Outcome.FAILED
            Delivery.objects.create(reminder=reminder, attempt=attempt, at=now, outcome="permanent_error", error=error)
            reminder.status = ReminderStatus.FAILED
            logger.warning("reminder %s failed permanently on %s: %s", reminder_id, reminder.channel, error)
        else:
            outcome = Outcome.SENT
            Delivery.objects.create(
                reminder=reminder, attempt=attempt, at=now, outcome="sent", provider_ref=str(provider_ref)[:200]
            )
            reminder.status, reminder.sent_at = ReminderStatus.SENT, now
            fields.append("sent_at")
        reminder.attempts = attempt
        reminder.last_error = error
        reminder.save(update_fields=fields)
    return outcome


# --- messages (bilingual, in the reader's time zone) ---------------------------------------------

_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

_ALERT_KINDS = {
    "suicidal_ideation": ("PHQ-9 item 9: thoughts of self-harm", "PHQ-9 第 9 题：有自伤念头"),
    "severe_adverse_event": ("Severe adverse event after a session", "治疗后严重不良事件"),
    "missed_logs": ("Three consecutive missed diary entries", "连续三次未记录疼痛日记"),
    "worsening_pain": ("Worsening pain", "疼痛加重"),
}

_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "due_item": {
        "en": ("Time for your {name}", "Due {when} ({tz}); open until {until}."),
        "zh-hans": ("请填写：{name}", "{when}（{tz}）起可以填写，截止 {until}。"),
    },
    "alert": {
        "en": (
            "Alert for patient #{patient}: {kind}",
            "{kind}, raised {when} ({tz}). Please review and acknowledge it in the console.",
        ),
        "zh-hans": ("患者 #{patient} 警报：{kind}", "{kind}，{when}（{tz}）发出。请在工作台查看并确认。"),
    },
    "escalation": {
        "en": (
            "Unacknowledged safety alert, patient #{patient}",
            "{kind}, raised {when} ({tz}), has not been acknowledged for {minutes} minutes. Please make sure the care team responds.",
        ),
        "zh-hans": (
            "安全警报未确认：患者 #{patient}",
            "{kind}（{when}，{tz}）已超过 {minutes} 分钟未被确认，请确保治疗团队及时处理。",
        ),
    },
}


def local_text(when: dt.datetime, tz: str, language: str) -> str:
    """A date and time as the reader reads it, in their zone: "Sun 8 Mar 09:00" / "3月8日 周日 09:00"."""
    local = when.astimezone(ZoneInfo(tz))
    if language == "zh-hans":
        return f"{local.month}月{local.day}日 {_WEEKDAYS_ZH[local.weekday()]} {local:%H:%M}"
    return f"{_WEEKDAYS_EN[local.weekday()]} {local.day} {_MONTHS_EN[local.month - 1]} {local:%H:%M}"


def _language(patient: Patient) -> str:
    return "zh-hans" if patient.language == "zh-hans" else "en"


def reminder_message(reminder: Reminder) -> Message:
    """The text of a reminder, in the patient's language (en / zh-hans).

    Patients read times in their own time zone; care-team and manager messages show the
    clinic's time zone, carry no name or answers (e-mail and push leave the clinic's
    systems) and point to the console, where the details are behind a login.
    """
    patient = reminder.patient
    language = _language(patient)
    zh = language == "zh-hans"
    if reminder.kind == Reminder.Kind.DUE_ITEM and reminder.due_item is not None:
        item = reminder.due_item
        instrument = INSTRUMENTS.get(item.instrument)
        name = instrument.name.get("zh-hans" if zh else "en") if instrument is not None else item.instrument
        title, body = _TEXTS["due_item"][language]
        tz = patient.time_zone
        return Message(
            title=title.format(name=name),
            body=body.format(
                when=local_text(item.due_at, tz, language), tz=tz, until=local_text(item.closes_at, tz, language)
            ),
            url="/app/",
            language=language,
            tag=reminder.dedupe_key,
        )
    alert = reminder.alert
    kind_en, kind_zh = _ALERT_KINDS.get(alert.kind if alert else "", ("Alert", "警报"))
    tz = patient.clinic.time_zone
    raised = alert.created_at if alert is not None else reminder.send_at
    title, body = _TEXTS["escalation" if reminder.kind == Reminder.Kind.ESCALATION else "alert"][language]
    values = {
        "patient": patient.pk,
        "kind": kind_zh if zh else kind_en,
        "when": local_text(raised, tz, language),
        "tz": tz,
        "minutes": settings.SAFETY_ALERT_ESCALATE_MINUTES,
    }
    return Message(
        title=title.format(**values),
        body=body.format(**values),
        url=f"/clinic/patients/{patient.pk}/",
        language=language,
        tag=reminder.dedupe_key,
    )


# --- alerts -------------------------------------------------------------------------------------------


def _staff_reminders(
    alert: Alert, user_ids: Sequence[int], *, kind: str, channels: Sequence[str], now: dt.datetime
) -> list[Reminder]:
    """One reminder per (user, channel) the user can be reached on."""
    with_email = set(get_user_model().objects.filter(pk__in=user_ids).exclude(email="").values_list("pk", flat=True))
    with_push = set(PushSubscription.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
    reachable: dict[str, set[int]] = {Channel.EMAIL: with_email, Channel.PUSH: with_push, Channel.IN_APP: set(user_ids)}
    return [
        Reminder(
            kind=kind,
            patient_id=alert.patient_id,
            alert=alert,
            recipient_id=user_id,
            channel=channel,
            send_at=now,
            expires_at=now + ALERT_MESSAGE_TTL,
            dedupe_key=f"{kind}:{alert.pk}:{user_id}:{channel}",
        )
        for user_id in user_ids
        for channel in channels
        if user_id in reachable[channel]
    ]


def _managers(clinic_id: int) -> list[int]:
    for role in (Role.MANAGER, Role.ADMIN):
        ids = list(
            Membership.objects.filter(clinic_id=clinic_id, role=role, user__is_active=True)
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
        if ids:
            return ids
    return []


def alert_fan_out(alert_id: int, *, now: dt.datetime | None = None, enqueue: Enqueue = reminders_enqueue) -> int:
    """Tell every care-team member about a new alert; returns how many were told.

    In-app notifications are written in this transaction (the console shows them as soon
    as it commits); for safety alerts, e-mail and push reminders are created already due,
    claimed and enqueued on commit, so they go out within seconds, not at the next
    dispatcher tick. ``notified_at`` makes a second run a no-op.
    """
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None:
            logger.warning("alert %s vanished before delivery", alert_id)
            return 0
        if alert.notified_at is not None:
            return 0
        patient = Patient.objects.select_related("clinic").get(pk=alert.patient_id)
        members = list(
            CareTeamMember.objects.filter(patient_id=patient.pk, user__is_active=True)
            .order_by("-is_primary", "user_id")
            .values_list("user_id", flat=True)
        )
        if not members:
            members = _managers(patient.clinic_id)
            logger.error("alert %s: patient %s has no care team; telling the clinic's managers", alert_id, patient.pk)
        language = _language(patient)
        kind_en, kind_zh = _ALERT_KINDS.get(alert.kind, (alert.kind, alert.kind))
        title = f"{kind_zh if language == 'zh-hans' else kind_en}: {patient.display_name}"
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=user_id,
                    patient=patient,
                    title=title[:200],
                    body=alert.message,
                    url=f"/clinic/patients/{patient.pk}/",
                    created_at=now,
                )
                for user_id in members
            ]
        )
        if alert.kind in SAFETY_KINDS:
            Reminder.objects.bulk_create(
                _staff_reminders(
                    alert, members, kind=Reminder.Kind.ALERT, channels=(Channel.EMAIL, Channel.PUSH), now=now
                ),
                ignore_conflicts=True,
            )
            _claim(
                Q(alert_id=alert.pk, kind=Reminder.Kind.ALERT, status=ReminderStatus.PENDING),
                now=now,
                limit=1000,
                enqueue=enqueue,
            )
        alert.notified_at = now
        alert.save(update_fields=["notified_at"])
    return len(members)


@dataclass
class EscalateResult:
    escalated: int = 0
    caught_up: int = 0


def alerts_escalate(*, now: dt.datetime | None = None, enqueue: Enqueue = reminders_enqueue) -> EscalateResult:
    """Safety alerts nobody acknowledged within SAFETY_ALERT_ESCALATE_MINUTES go to the
    clinic's managers (in-app, e-mail, push), once: ``escalated_at`` is set by a
    conditional update. Also fans out alerts whose notify task was lost."""
    now = now or timezone.now()
    result = EscalateResult()
    lost = Alert.objects.filter(notified_at__isnull=True, created_at__lte=now - FAN_OUT_GRACE).values_list(
        "id", flat=True
    )[:200]
    for alert_id in list(lost):
        logger.warning("alert %s was not fanned out in time; doing it now", alert_id)
        alert_fan_out(alert_id, now=now, enqueue=enqueue)
        result.caught_up += 1
    cutoff = now - dt.timedelta(minutes=settings.SAFETY_ALERT_ESCALATE_MINUTES)
    overdue = Alert.objects.filter(
        kind__in=SAFETY_KINDS, acknowledged_at__isnull=True, escalated_at__isnull=True, created_at__lte=cutoff
    )
    for alert_id in list(overdue.order_by("created_at").values_list("id", flat=True)[:200]):
        with transaction.atomic():
            if not Alert.objects.filter(pk=alert_id, acknowledged_at__isnull=True, escalated_at__isnull=True).update(
                escalated_at=now
            ):
                continue  # acknowledged meanwhile, or another run escalated it
            alert = Alert.objects.select_related("patient").get(pk=alert_id)
            managers = _managers(alert.patient.clinic_id)
            if not managers:
                logger.error(
                    "alert %s: clinic %s has no manager or admin to escalate to", alert_id, alert.patient.clinic_id
                )
            Reminder.objects.bulk_create(
                _staff_reminders(
                    alert,
                    managers,
                    kind=Reminder.Kind.ESCALATION,
                    channels=(Channel.IN_APP, Channel.EMAIL, Channel.PUSH),
                    now=now,
                ),
                ignore_conflicts=True,
            )
            _claim(
                Q(alert_id=alert_id, kind=Reminder.Kind.ESCALATION, status=ReminderStatus.PENDING),
                now=now,
                limit=1000,
                enqueue=enqueue,
            )
            result.escalated += 1
    return result


# --- inbox and push subscriptions ---------------------------------------------------------------------


def notification_mark_read(*, user: Any, notification_id: int, now: dt.datetime | None = None) -> Notification | None:
    """Mark one of the user's own notifications read (idempotent); None if not theirs."""
    notification = Notification.objects.filter(pk=notification_id, user_id=user.pk).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = now or timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def push_subscription_save(*, user: Any, endpoint: str, p256dh: str, auth: str) -> tuple[PushSubscription, bool]:
    """Store the browser's subscription for the user. An endpoint is one browser profile:
    if someone else was logged in there before, the subscription moves to this user."""
    subscription, created = PushSubscription.objects.select_for_update().get_or_create(
        endpoint=endpoint, defaults={"user_id": user.pk, "p256dh": p256dh, "auth": auth}
    )
    if not created and (subscription.user_id, subscription.p256dh, subscription.auth) != (user.pk, p256dh, auth):
        subscription.user_id, subscription.p256dh, subscription.auth = user.pk, p256dh, auth
        subscription.save(update_fields=["user", "p256dh", "auth"])
    return subscription, created


def push_subscription_delete(*, user: Any, endpoint: str) -> int:
    return PushSubscription.objects.filter(user_id=user.pk, endpoint=endpoint).delete()[0]
