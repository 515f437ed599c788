"""External messages: the window in which a killed worker can cause a repeat is as short as
the provider allows, and a repeat carries the same identity so the far end can fold it."""

from __future__ import annotations

import smtplib
from typing import Any, ClassVar

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from assessments.alerts.channels import EmailChannel, Message, SmsChannel, TransientChannelError
from assessments.alerts.outbox import Outcome, reminder_deliver
from assessments.models import Delivery, PatientProtocol, ReminderStatus
from tests.assessments.test_reminders import make_reminder, utc


class RecordingSmtp(BaseEmailBackend):
    """An SMTP-like backend that records the session: open, each message, close."""

    events: ClassVar[list[str]] = []
    message_ids: ClassVar[list[str]] = []
    fail_with: ClassVar[Exception | None] = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.connected = False

    def open(self) -> bool:
        if self.connected:
            return False
        self.connected = True
        self.events.append("open")
        return True

    def close(self) -> None:
        if self.connected:
            self.connected = False
            self.events.append("close")

    def send_messages(self, email_messages: Any) -> int:
        new = self.open()
        if self.fail_with is not None:
            raise self.fail_with
        for message in email_messages:
            self.events.append("send")
            self.message_ids.append(message.extra_headers["Message-ID"])
        if new:
            self.close()
        return len(email_messages)


@pytest.fixture
def smtp(settings: Any) -> type[RecordingSmtp]:
    settings.EMAIL_BACKEND = f"{__name__}.RecordingSmtp"
    RecordingSmtp.events = []
    RecordingSmtp.message_ids = []
    RecordingSmtp.fail_with = None
    return RecordingSmtp


@pytest.fixture
def email_reminder(patient: Any) -> Any:
    patient.user.email = "p@example.org"
    patient.user.save(update_fields=["email"])
    return make_reminder(patient, send_at=utc(2026, 5, 4), channel="email", status=ReminderStatus.SENDING)


def test_smtp_session_is_closed_only_after_the_ledger_commit(
    smtp: type[RecordingSmtp], email_reminder: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert reminder_deliver(email_reminder.pk, now=utc(2026, 5, 4, 1)) is Outcome.SENT
    # Accepted and recorded, the session still open: a kill now repeats nothing.
    assert smtp.events == ["open", "send"]
    assert Delivery.objects.filter(reminder=email_reminder, outcome="sent").exists()
    for callback in callbacks:
        callback()
    assert smtp.events == ["open", "send", "close"]


def test_a_failed_smtp_send_closes_the_session_at_once(smtp: type[RecordingSmtp], email_reminder: Any) -> None:
    smtp.fail_with = smtplib.SMTPResponseException(451, b"try later")
    message = Message("T", "B", "", "en", email_reminder.dedupe_key)
    with pytest.raises(TransientChannelError):
        EmailChannel().send(email_reminder, message)
    assert smtp.events == ["open", "close"]


def test_every_attempt_at_one_reminder_has_the_same_message_id(
    smtp: type[RecordingSmtp], email_reminder: Any, patient: Any
) -> None:
    message = Message("T", "B", "/app/", "en", email_reminder.dedupe_key)
    first = EmailChannel().send(email_reminder, message)
    second = EmailChannel().send(email_reminder, message)
    assert first == second == smtp.message_ids[0] == smtp.message_ids[1]
    assert first.startswith(f"<reminder-{email_reminder.pk}.")
    other = make_reminder(patient, send_at=utc(2026, 5, 5), channel="email")
    assert EmailChannel().send(other, Message("T", "B", "", "en", other.dedupe_key)) != first


class KeyedSms:
    sent: ClassVar[list[tuple[str, str, str]]] = []

    def send(self, number: str, text: str, *, idempotency_key: str) -> str:
        self.sent.append((number, text, idempotency_key))
        return f"gw-{len(self.sent)}"


class PlainSms:
    sent: ClassVar[list[tuple[str, str]]] = []

    def send(self, number: str, text: str) -> str:
        self.sent.append((number, text))
        return "plain-1"


def _sms_reminder(patient: Any) -> Any:
    PatientProtocol.objects.create(
        patient=patient, protocol_code="diary", start_date=utc(2026, 5, 1).date(), sms_number="+8613800138000"
    )
    return make_reminder(patient, send_at=utc(2026, 5, 4), channel="sms", kind="due_item")


def test_sms_gateways_get_a_stable_idempotency_key(settings: Any, patient: Any) -> None:
    settings.SMS_BACKEND = f"{__name__}.KeyedSms"
    KeyedSms.sent = []
    reminder = _sms_reminder(patient)
    message = Message("T", "B", "", "en", reminder.dedupe_key)
    SmsChannel().send(reminder, message)
    SmsChannel().send(reminder, message)
    (_n1, _t1, first), (_n2, _t2, second) = KeyedSms.sent
    assert first == second
    assert first.startswith(f"reminder-{reminder.pk}-")


def test_sms_backends_without_the_key_still_work(settings: Any, patient: Any) -> None:
    settings.SMS_BACKEND = f"{__name__}.PlainSms"
    PlainSms.sent = []
    reminder = _sms_reminder(patient)
    assert SmsChannel().send(reminder, Message("T", "B", "", "en", reminder.dedupe_key)) == "plain-1"
    assert PlainSms.sent == [("+8613800138000", "T: B")]
