"""The outbox: every reminder and alert message is a row, claimed, ledgered, and sent once.

The life of a reminder::

    pending --(dispatcher: conditional update)--> sending --(sender)--> sent
       |                                            |  \\--> skipped (item done, alert acked)
       \\--> expired (window closed)                |   \\-> failed (permanent / retries spent)
                                                    \\--> re-queued when stale (10 min)

- :func:`reminders_dispatch` claims due rows in batches: on PostgreSQL one statement
  selects the ids ``FOR UPDATE SKIP LOCKED`` (two dispatchers never contend for a row) and
  flips them to ``sending``, returning what it claimed; elsewhere the ids are selected, then
  flipped with ``UPDATE … WHERE status='pending'``. Only rows whose claim succeeded are
  enqueued, after commit, with the reminder's expiry as the task's ``expires``.
- :func:`reminder_deliver` (tasks ``assessments.reminders_send``, a chunk, and
  ``assessments.reminder_send``, one reminder; both acks_late) locks the row,
  proceeds only if it is still ``sending`` and no ``sent`` ledger row exists, calls the
  channel, and writes the ``Delivery`` row and the new status in the same transaction.
  A task redelivered after a worker was killed therefore finds either nothing written
  (and sends) or the ledger row (and stops). A partial unique index allows one ``sent``
  Delivery per reminder, so the database enforces it too.
- Stale ``sending`` rows (claimed more than 10 minutes ago, not locked by a sender, no
  ``sent`` ledger row) are re-queued by the dispatcher: this recovers a claim whose
  enqueue was lost (broker down, process killed between commit and publish).

Messages are claimed here and published by ``assessments.alerts.tasks.reminders_enqueue``,
which the callers pass in as ``enqueue``.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from assessments.alerts.channels import (
    Message,
    PermanentChannelError,
    TransientChannelError,
    channel_for,
)
from assessments.alerts.text import ALERT_KIND_LABELS
from assessments.instruments import INSTRUMENTS
from assessments.models import (
    Channel,
    Delivery,
    DueStatus,
    Notification,
    PushSubscription,
    Reminder,
    ReminderStatus,
)
from patients.models import Patient
from patients.services import consents_in_force

logger = logging.getLogger(__name__)

CLAIM_BATCH = 1000
#: A ``sending`` row this old with no ledger entry was lost on the way: re-queue it.
STALE_AFTER = dt.timedelta(minutes=getattr(settings, "REMINDER_STALE_MINUTES", 10))
#: Hand-overs to a worker (sends, transient retries and re-queues) before giving up.
MAX_ATTEMPTS = 10

Claim = tuple[int, dt.datetime]  # reminder id, expires_at
Enqueue = Callable[[Sequence[Claim]], None]


# --- claiming ----------------------------------------------------------------------------------


def _enqueue_after_commit(enqueue: Enqueue, claims: list[Claim]) -> None:
    # robust: a broker outage must not turn a committed claim into an error for the caller;
    # the rows stay "sending" and the dispatcher re-queues them once they are stale.
    transaction.on_commit(functools.partial(enqueue, claims), robust=True)


def _locked(qs: Any) -> Any:
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True)
    return qs  # SQLite: IMMEDIATE transactions already serialise writers


def _claim_returning(where: Q, *, now: dt.datetime, limit: int, bump_attempts: bool) -> list[Claim]:
    """PostgreSQL: pick (``FOR UPDATE SKIP LOCKED``) and flip the rows in one statement.

    The locked pick is the same query the portable path runs; PostgreSQL re-checks
    ``where`` on each row it locks, so every row it returns was still claimable.
    """
    picked = _locked(Reminder.objects.filter(where).order_by("send_at", "id")).values("id")[:limit]
    pick_sql, pick_params = picked.query.get_compiler(connection=connection).as_sql()
    table = connection.ops.quote_name(Reminder._meta.db_table)
    attempts = ", attempts = r.attempts + 1" if bump_attempts else ""
    # Only the ORM-compiled pick, the quoted table name and a fixed clause are spliced in;
    # every value travels as a parameter. ``= ANY(ARRAY(pick))`` runs the pick once and
    # then reaches the picked rows through the primary key (a join would scan the table).
    sql = (
        f"UPDATE {table} AS r SET status = %s, claimed_at = %s{attempts} "  # noqa: S608
        f"WHERE r.id = ANY(ARRAY({pick_sql})) RETURNING r.id, r.expires_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (ReminderStatus.SENDING, now, *pick_params))
        return sorted((int(pk), expires) for pk, expires in cursor.fetchall())


def reminders_claim(
    where: Q, *, now: dt.datetime, limit: int, enqueue: Enqueue, bump_attempts: bool = False
) -> list[Claim]:
    """Claim up to ``limit`` reminders matching ``where`` and enqueue them after commit."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            claims = _claim_returning(where, now=now, limit=limit, bump_attempts=bump_attempts)
            if claims:
                _enqueue_after_commit(enqueue, claims)
            return claims
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
    while rows := reminders_claim(
        stale & Q(expires_at__gt=now, attempts__lt=MAX_ATTEMPTS),
        now=now,
        limit=limit,
        enqueue=enqueue,
        bump_attempts=True,
    ):
        logger.warning("re-queued %d stale reminders", len(rows))
        result.requeued += len(rows)


def reminders_dispatch(
    *, now: dt.datetime | None = None, batch_size: int = CLAIM_BATCH, enqueue: Enqueue
) -> DispatchResult:
    """Claim every due reminder and hand each to a send task (beat: every minute)."""
    now = now or timezone.now()
    result = DispatchResult()
    result.expired = Reminder.objects.filter(status=ReminderStatus.PENDING, expires_at__lte=now).update(
        status=ReminderStatus.EXPIRED
    )
    _requeue_stale(now, limit=batch_size, enqueue=enqueue, result=result)
    due = Q(status=ReminderStatus.PENDING, send_at__lte=now, expires_at__gt=now)
    while rows := reminders_claim(due, now=now, limit=batch_size, enqueue=enqueue):
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
        off_site = reminder.channel in (Channel.PUSH, Channel.EMAIL, Channel.SMS)
        if off_site and not consents_in_force(reminder.patient).get("reminders", False):
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


def language_of(patient: Patient) -> str:
    return "zh-hans" if patient.language == "zh-hans" else "en"


def reminder_message(reminder: Reminder) -> Message:
    """The text of a reminder, in the patient's language (en / zh-hans).

    Patients read times in their own time zone; care-team and manager messages show the
    clinic's time zone, carry no name or answers (e-mail and push leave the clinic's
    systems) and point to the console, where the details are behind a login.
    """
    patient = reminder.patient
    language = language_of(patient)
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
    kind_en, kind_zh = ALERT_KIND_LABELS.get(alert.kind if alert else "", ("Alert", "警报"))
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
