"""Celery tasks of the alerts room: telling the care team, escalating, sending messages.

Periodic tasks (the beat schedule is in config/celery.py) accept an optional ISO 8601
``now`` so that an operator can replay a run for a given instant; beat sends none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.time import get_exponential_backoff_interval
from kombu.utils.uuid import uuid

from assessments.alerts import fan_out, outbox
from assessments.alerts.channels import TransientChannelError
from assessments.alerts.outbox import Claim
from config.celery import task, task_now

logger = logging.getLogger(__name__)

SEND_MAX_RETRIES = 5
#: Messages per broker round trip when many reminders are enqueued at once.
ENQUEUE_PIPELINE = 1000
#: A hand-over of this many reminders or fewer goes one message per reminder (an alert's
#: messages), so one slow channel never holds up another; larger ones go in chunks.
SINGLE_UP_TO = 64
#: At most this many reminders per chunk message.
CHUNK_MAX = 100
#: A chunk that has run this long hands the rest of its reminders over to a new message,
#: far inside the task's soft time limit (60 s) even when the last send times out.
CHUNK_BUDGET_SECONDS = 30.0


@task(
    name="assessments.reminder_send",
    idempotent=True,
    bind=True,
    autoretry_for=(TransientChannelError,),
    retry_backoff=30,
    retry_backoff_max=300,  # below the 10 min after which a "sending" row counts as lost
    retry_jitter=True,
    max_retries=SEND_MAX_RETRIES,
)
def reminder_send(self: Any, reminder_id: int) -> None:
    """Send one claimed reminder; only transient channel errors are retried."""
    final = self.request.retries >= SEND_MAX_RETRIES
    result = outbox.reminder_deliver(reminder_id, final_attempt=final)
    if result is outbox.Outcome.RETRY:
        raise TransientChannelError(f"reminder {reminder_id}: transient failure, will retry")


@task(name="assessments.reminders_send", idempotent=True)
def reminders_send(reminder_ids: list[int]) -> None:
    """Send a chunk of claimed reminders one after another, each exactly once.

    Each reminder is delivered as by ``reminder_send`` (its own transaction, ledger and
    status check), so a chunk redelivered after its worker died sends only what is still
    ``sending``. A transient failure goes on as a ``reminder_send`` retry of that one
    reminder; any other error leaves that reminder ``sending`` for the stale re-queue and
    the chunk carries on. A chunk past its time budget hands the rest over to a new message.
    """
    started = time.monotonic()
    for index, reminder_id in enumerate(reminder_ids):
        if index and time.monotonic() - started > CHUNK_BUDGET_SECONDS:
            _publish(reminders_send, [(reminder_ids[index:], None)])
            return
        try:
            outcome = outbox.reminder_deliver(reminder_id)
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            logger.exception("reminder %s: send failed; the stale re-queue will retry it", reminder_id)
            continue
        if outcome is outbox.Outcome.RETRY:
            send: Any = reminder_send
            backoff = get_exponential_backoff_interval(factor=30, retries=0, maximum=300, full_jitter=True)
            send.apply_async((reminder_id,), retries=1, countdown=backoff)


def _chunks(claims: Sequence[Claim]) -> list[tuple[list[int], dt.datetime]]:
    """Claims cut into at least ``SINGLE_UP_TO`` chunks of at most ``CHUNK_MAX``, sizes
    differing by one at most; each chunk expires with the last of its reminders."""
    count = max(-(-len(claims) // CHUNK_MAX), min(len(claims), SINGLE_UP_TO))
    size, bigger = divmod(len(claims), count)
    chunks = []
    start = 0
    for index in range(count):
        part = claims[start : start + size + (index < bigger)]
        start += len(part)
        chunks.append(([pk for pk, _expires in part], max(expires for _pk, expires in part)))
    return chunks


def reminders_enqueue(claims: Sequence[Claim], *, queue: str | None = None) -> None:
    """Hand claimed reminders to the workers: one ``reminder_send`` message per reminder
    for a small hand-over, chunks of up to ``CHUNK_MAX`` (``reminders_send``) for a large
    one; every message expires with the last of its reminders."""
    if not claims:
        return
    if len(claims) <= SINGLE_UP_TO:
        _publish(reminder_send, [(reminder_id, expires) for reminder_id, expires in claims], queue=queue)
    else:
        _publish(reminders_send, _chunks(claims), queue=queue)


def _publish(task_: Any, calls: Sequence[tuple[Any, dt.datetime | None]], *, queue: str | None = None) -> None:
    """Publish ``task_(arg)`` for each ``(arg, expires)``.

    Equivalent to ``task_.apply_async((arg,), expires=expires)`` per call, but routed,
    declared and configured once per batch and published through one producer, pipelined
    where kombu supports it (Redis, kombu >= 5.7: one round trip per 1000 messages). The
    message is the same Celery protocol-2 message, with the same publish signals.
    """
    app = task_.app
    name = task_.name
    route = app.amqp.router.route({"queue": queue} if queue else {}, name, (0,), {})
    limits = {"time_limit": task_.time_limit, "soft_time_limit": task_.soft_time_limit}
    with app.producer_or_acquire() as producer:
        producer.maybe_declare(route["queue"])  # once, not once per message (declare=[] below)
        batch = producer.batch(max_size=ENQUEUE_PIPELINE) if hasattr(producer, "batch") else contextlib.nullcontext()
        with batch:
            for arg, expires in calls:
                message = app.amqp.create_task_message(
                    uuid(),
                    name,
                    (arg,),
                    {},
                    expires=expires,
                    ignore_result=True,
                    argsrepr=_short_repr(arg),
                    kwargsrepr="{}",
                    **limits,
                )
                app.amqp.send_task_message(producer, name, message, serializer="json", declare=[], **route)


def _short_repr(arg: Any) -> str:
    if isinstance(arg, list) and len(arg) > 3:
        return f"([{arg[0]}, … {len(arg)} reminders],)"
    return f"({arg!r},)"


@task(name="assessments.alert_notify", idempotent=True)
def alert_notify(alert_id: int) -> None:
    """Tell the care team about a new alert (safe to run twice: ``notified_at``)."""
    fan_out.alert_fan_out(alert_id, enqueue=reminders_enqueue)


@task(name="assessments.reminders_dispatch")
def reminders_dispatch(now: str | None = None) -> None:
    """Every minute: claim due reminders and hand them to the send tasks (in chunks)."""
    result = outbox.reminders_dispatch(now=task_now(now), enqueue=reminders_enqueue)
    if result.claimed or result.requeued or result.expired:
        logger.info("reminders: %s", result)


@task(name="assessments.alerts_escalate")
def alerts_escalate(now: str | None = None) -> None:
    """Every minute: unacknowledged safety alerts go to the clinic's managers."""
    result = fan_out.alerts_escalate(now=task_now(now), enqueue=reminders_enqueue)
    if result.escalated or result.caught_up:
        logger.warning("alerts: %s", result)
