"""Delivery channels for reminders and alerts: in-app, e-mail, Web Push, SMS.

A channel sends one :class:`Message` for one :class:`~assessments.models.Reminder` and
returns a provider reference, or raises:

- :class:`TransientChannelError`: might work on the next try (timeouts, 5xx, 429, SMTP
  4xx, connection refused). The send task retries these with back-off, a bounded number
  of times.
- :class:`PermanentChannelError`: will never work (no address, push subscription gone,
  SMTP 5xx, channel not configured). The reminder is marked failed; no retry.

Channels are called by :func:`assessments.alerts.outbox.reminder_deliver` inside the
transaction that locks the reminder row and writes the ledger. The in-app channel writes
its Notification row in that same transaction, so an in-app message is delivered exactly
once even when a worker is killed mid-send. External providers (SMTP, push services, SMS
gateways) are outside the transaction: a worker killed in the milliseconds between the
provider accepting a message and the ledger commit causes one re-send on redelivery.
That window is kept as short as the providers allow, and a repeat carries the same
identity so the far end can fold it:

- e-mail: the SMTP session is left open after the message is accepted and closed (QUIT)
  only once the ledger row is committed, so the window is the ledger write alone, not the
  QUIT round trip; every attempt for one reminder carries the same ``Message-ID``
  (``<reminder-<id>.<token>@domain>``), which mail stores with duplicate suppression fold;
- Web Push: the same ``Topic`` (a push service replaces a still-queued message with the
  same topic, RFC 8030 §5.4) and the same notification ``tag`` (the phone replaces a shown
  notification with the same tag rather than showing a second one);
- SMS: the backend is given a stable ``idempotency_key`` for gateways that deduplicate
  on a client reference.

Reach: Web Push goes through the browser vendor's push service (FCM for Chrome, Mozilla
autopush, Apple). Those services are not reachable from phones in mainland China, so
patients there get no Web Push; use SMS (settings.SMS_BACKEND, a gateway of a mainland
provider) or e-mail for them. In-app messages always work once the app is opened.

Test hook: ``REMINDER_TEST_CHANNELS`` (environment, test-only), e.g.
``in_app=tests.integration.slow_channel.SlowInAppChannel``, swaps a channel class so the
integration tests can block a send and kill the worker mid-transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import logging
import os
import smtplib
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils.module_loading import import_string

from assessments.models import Channel, Notification, PatientProtocol, PushSubscription

if TYPE_CHECKING:
    from assessments.models import Reminder

logger = logging.getLogger(__name__)

__all__ = [
    "CHANNELS",
    "ChannelError",
    "EmailChannel",
    "InAppChannel",
    "LogSmsBackend",
    "Message",
    "PermanentChannelError",
    "SmsChannel",
    "TransientChannelError",
    "WebPushChannel",
    "channel_for",
]


class ChannelError(Exception):
    """A channel could not deliver a message."""


class TransientChannelError(ChannelError):
    """Worth retrying later (the provider or the network had a bad moment)."""


class PermanentChannelError(ChannelError):
    """Retrying will not help (no address, subscription gone, misconfiguration)."""


@dataclass(frozen=True)
class Message:
    """What a recipient sees, already in their language and time zone."""

    title: str
    body: str
    url: str
    language: str
    tag: str  # stable per reminder: e-mail Message-ID / push Topic / notification tag


class ChannelProtocol(Protocol):
    @property
    def code(self) -> str: ...

    def send(self, reminder: Reminder, message: Message) -> str: ...


def _stable_token(tag: str) -> str:
    return hashlib.sha256(tag.encode()).hexdigest()[:32]


class InAppChannel:
    """A Notification row in the recipient's inbox (the console's or the app's).

    Runs inside the sender's transaction: the row and the ledger entry commit together.
    """

    code = Channel.IN_APP

    def send(self, reminder: Reminder, message: Message) -> str:
        if reminder.recipient_id is None:
            raise PermanentChannelError("in-app message without a recipient (patient has no login)")
        notification = Notification.objects.create(
            user_id=reminder.recipient_id,
            patient_id=reminder.patient_id,
            title=message.title[:200],
            body=message.body,
            url=message.url[:300],
        )
        return f"notification:{notification.pk}"


# SMTP reply codes 4xx are temporary by definition (RFC 5321 §4.2.1), 5xx permanent.
_SMTP_TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    socket.timeout,
    ConnectionError,
    TimeoutError,
)


def _close_quietly(connection: Any) -> None:
    # The message is already accepted and recorded: a failing QUIT changes nothing.
    with contextlib.suppress(Exception):
        connection.close()


class EmailChannel:
    """E-mail through Django's configured backend, in the recipient's language."""

    code = Channel.EMAIL

    @staticmethod
    def message_id(reminder: Reminder, message: Message) -> str:
        """The same for every attempt at one reminder (derived from its id and dedupe key)."""
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        return f"<reminder-{reminder.pk}.{_stable_token(message.tag)}@{domain}>"

    def send(self, reminder: Reminder, message: Message) -> str:
        recipient = reminder.recipient
        address = getattr(recipient, "email", "") if recipient is not None else ""
        if not address:
            raise PermanentChannelError("recipient has no e-mail address")
        message_id = self.message_id(reminder, message)
        connection = get_connection(fail_silently=False)
        email = EmailMessage(
            subject=message.title,
            body=f"{message.body}\n\n{message.url}" if message.url else message.body,
            to=[address],
            headers={"Message-ID": message_id, "Content-Language": message.language},
            connection=connection,
        )
        try:
            # Opened here, the backend leaves the session open after sending (it only
            # closes sessions it opened itself): the QUIT waits for the ledger commit.
            connection.open()
            sent = email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            _close_quietly(connection)
            codes = [code for code, _msg in exc.recipients.values()]
            if codes and all(400 <= code < 500 for code in codes):
                raise TransientChannelError(f"recipient temporarily refused: {codes}") from exc
            raise PermanentChannelError(f"recipient refused: {codes}") from exc
        except smtplib.SMTPResponseException as exc:
            _close_quietly(connection)
            if 400 <= exc.smtp_code < 500:
                raise TransientChannelError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
            raise PermanentChannelError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
        except _SMTP_TRANSIENT as exc:
            _close_quietly(connection)
            raise TransientChannelError(f"SMTP connection: {exc}") from exc
        except OSError as exc:  # DNS failure, connection reset, ...
            _close_quietly(connection)
            raise TransientChannelError(f"SMTP: {exc}") from exc
        # After the sender's transaction commits (at once outside a transaction). On a
        # rollback the session is dropped with the connection object.
        transaction.on_commit(lambda: _close_quietly(connection))
        if sent != 1:
            raise TransientChannelError("the e-mail backend reported nothing sent")
        return message_id


def _push_status(exc: Any) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None and getattr(exc, "response", None) is not None:
        status = getattr(exc.response, "status_code", None)
    return status if isinstance(status, int) else None


class WebPushChannel:
    """Web Push (RFC 8030 + VAPID, RFC 8292) to every subscription of the recipient.

    404/410 from the push service mean the subscription is gone: it is deleted, and when
    none is left the send fails permanently. 429, 5xx and network errors are transient.
    Not reachable in mainland China (see the module docstring): use SMS there.
    """

    code = Channel.PUSH
    timeout_seconds = 10
    ttl_seconds = 12 * 3600

    def send(self, reminder: Reminder, message: Message) -> str:
        from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]
        from requests import RequestException

        if not (settings.VAPID_PRIVATE_KEY and settings.VAPID_PUBLIC_KEY):
            raise PermanentChannelError("Web Push is not configured (VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY)")
        if reminder.recipient_id is None:
            raise PermanentChannelError("push message without a recipient")
        subscriptions = list(PushSubscription.objects.filter(user_id=reminder.recipient_id).order_by("id"))
        if not subscriptions:
            raise PermanentChannelError("recipient has no push subscription")
        payload = json.dumps(
            {"title": message.title, "body": message.body, "url": message.url, "tag": message.tag}, ensure_ascii=False
        )
        delivered: list[str] = []
        transient: list[str] = []
        gone: list[int] = []
        for sub in subscriptions:
            try:
                webpush(
                    subscription_info={"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}},
                    data=payload,
                    vapid_private_key=settings.VAPID_PRIVATE_KEY,
                    vapid_claims={"sub": settings.VAPID_SUBJECT},
                    ttl=self.ttl_seconds,
                    timeout=self.timeout_seconds,
                    # Push services replace a still-queued message with the same Topic, so
                    # a repeat after a worker crash does not show twice (RFC 8030 §5.4).
                    headers={
                        "Topic": _stable_token(message.tag),
                        "Urgency": "high" if reminder.kind != "due_item" else "normal",
                    },
                )
            except WebPushException as exc:
                status = _push_status(exc)
                if status in (404, 410):
                    gone.append(sub.pk)
                elif status is not None and (status == 429 or status >= 500):
                    transient.append(f"{status}")
                else:
                    logger.warning("push to subscription %s refused: %s", sub.pk, status)
            except (RequestException, TimeoutError, ConnectionError) as exc:
                transient.append(type(exc).__name__)
            else:
                delivered.append(str(sub.pk))
        if gone:
            PushSubscription.objects.filter(pk__in=gone).delete()
        if delivered:
            return "push:" + ",".join(delivered)
        if transient:
            raise TransientChannelError(f"push service unavailable: {', '.join(transient)}")
        raise PermanentChannelError(f"no working push subscription ({len(gone)} expired and removed)")


class SmsBackend(Protocol):
    def send(self, number: str, text: str) -> str: ...


class LogSmsBackend:
    """Default SMS backend: writes the message to the log (development, demo, tests).

    A real backend is a class with ``send(number, text, *, idempotency_key) -> provider
    reference`` that raises Transient/PermanentChannelError; name it in the SMS_BACKEND
    setting. ``idempotency_key`` is the same for every attempt at one reminder: pass it as
    the gateway's client reference / idempotency key where the gateway deduplicates on it.
    (Backends written without the keyword still work; they are called without it.)
    """

    def send(self, number: str, text: str, *, idempotency_key: str = "") -> str:
        logger.info("SMS to %s (key %s): %s", number, idempotency_key, text)
        return f"log:{_stable_token(number + text)[:12]}"


def _accepts_keyword(func: Any, name: str) -> bool:
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


class SmsChannel:
    """SMS through the pluggable ``settings.SMS_BACKEND`` (covers mainland China)."""

    code = Channel.SMS

    def send(self, reminder: Reminder, message: Message) -> str:
        # SMS goes to patients only (staff have no number on file); a patient needs no
        # login for it, which is one more reason it is the fallback channel.
        number = (
            PatientProtocol.objects.filter(patient_id=reminder.patient_id).values_list("sms_number", flat=True).first()
            if reminder.kind == "due_item"
            else ""
        )
        if not number:
            raise PermanentChannelError("no SMS number for the recipient")
        backend: SmsBackend = import_string(settings.SMS_BACKEND)()
        text = f"{message.title}: {message.body}"
        if _accepts_keyword(backend.send, "idempotency_key"):
            key = f"reminder-{reminder.pk}-{_stable_token(message.tag)}"
            return str(backend.send(number, text, idempotency_key=key))  # type: ignore[call-arg]
        return backend.send(number, text)


CHANNELS: dict[str, type[ChannelProtocol]] = {
    Channel.IN_APP.value: InAppChannel,
    Channel.EMAIL.value: EmailChannel,
    Channel.PUSH.value: WebPushChannel,
    Channel.SMS.value: SmsChannel,
}


def _test_overrides() -> dict[str, str]:
    raw = os.environ.get("REMINDER_TEST_CHANNELS", "")
    pairs = (part.split("=", 1) for part in raw.split(",") if "=" in part)
    return {code.strip(): path.strip() for code, path in pairs}


def channel_for(code: str) -> ChannelProtocol:
    """The channel object for a channel code; unknown codes fail permanently."""
    override = _test_overrides().get(code)
    if override:
        cls: type[ChannelProtocol] = import_string(override)
        return cls()
    try:
        return CHANNELS[code]()
    except KeyError:
        raise PermanentChannelError(f"unknown channel {code!r}") from None
