"""Reminder claiming, sending, ledger, channels, missed diaries and alert delivery (services;
no worker: the enqueue step is captured). The real-worker cases are in tests/integration."""

from __future__ import annotations

import datetime as dt
import smtplib
import uuid
from typing import Any

import pytest
from django.core import mail

from assessments.alerts import channels as channels_module
from assessments.alerts.channels import (
    EmailChannel,
    Message,
    PermanentChannelError,
    TransientChannelError,
    WebPushChannel,
)
from assessments.alerts.fan_out import alert_fan_out, alerts_escalate
from assessments.alerts.outbox import (
    Outcome,
    local_text,
    reminder_deliver,
    reminder_message,
    reminders_dispatch,
)
from assessments.alerts.services import alert_raise
from assessments.capture.services import assessment_record
from assessments.models import (
    Alert,
    Delivery,
    DueItem,
    DueStatus,
    Notification,
    PushSubscription,
    Reminder,
    ReminderStatus,
)
from assessments.reminders.due import due_items_close
from assessments.reminders.protocols import protocol_apply
from patients.audit import Actor
from patients.services import consent_record
from tests.factories import make_patient, make_staff, make_user

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


class Recorder:
    """Stands in for the broker: records what would have been enqueued."""

    def __init__(self) -> None:
        self.claims: list[tuple[int, dt.datetime]] = []

    def __call__(self, claims: Any) -> None:
        self.claims.extend(claims)

    @property
    def ids(self) -> list[int]:
        return [pk for pk, _expires in self.claims]


@pytest.fixture
def enqueue() -> Recorder:
    return Recorder()


@pytest.fixture
def no_broker(monkeypatch: Any) -> list[int]:
    """alert_raise queues alert_notify on commit; keep it off the broker, remember the ids."""
    from assessments import tasks

    queued: list[int] = []
    monkeypatch.setattr(tasks.alert_notify, "delay", lambda alert_id: queued.append(alert_id))
    return queued


def diary_protocol(therapist: Any, patient: Any, *, now: dt.datetime, start: dt.date, **kwargs: Any) -> None:
    protocol_apply(
        actor=Actor(user=therapist),
        patient=patient,
        start_date=start,
        items=[{"instrument": "nrs", "every_days": 1, "local_time": "09:00"}],
        now=now,
        **kwargs,
    )


def make_reminder(
    patient: Any, *, send_at: dt.datetime, channel: str = "in_app", status: str = ReminderStatus.PENDING, **fields: Any
) -> Reminder:
    fields.setdefault("expires_at", send_at + dt.timedelta(hours=24))
    fields.setdefault("recipient_id", patient.user_id)
    return Reminder.objects.create(
        kind=fields.pop("kind", Reminder.Kind.MISSED),
        patient=patient,
        channel=channel,
        send_at=send_at,
        status=status,
        dedupe_key=f"test:{uuid.uuid4()}",
        **fields,
    )


# --- dispatcher ------------------------------------------------------------------------------------


def test_dispatch_claims_due_reminders_once(
    therapist: Any, patient: Any, enqueue: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    diary_protocol(therapist, patient, now=utc(2026, 5, 3, 12), start=dt.date(2026, 5, 4))
    due_now = Reminder.objects.get(due_item__local_date=dt.date(2026, 5, 4))
    later = Reminder.objects.get(due_item__local_date=dt.date(2026, 5, 5))
    expired = make_reminder(patient, send_at=utc(2026, 5, 1), expires_at=utc(2026, 5, 2))
    now = utc(2026, 5, 4, 1, 0, 30)
    with django_capture_on_commit_callbacks(execute=True):
        result = reminders_dispatch(now=now, enqueue=enqueue)
    assert (result.claimed, result.expired) == (1, 1)
    assert enqueue.claims == [(due_now.pk, due_now.expires_at)]  # the task expires with the window
    due_now.refresh_from_db()
    assert (due_now.status, due_now.claimed_at) == (ReminderStatus.SENDING, now)
    assert Reminder.objects.get(pk=later.pk).status == ReminderStatus.PENDING
    assert Reminder.objects.get(pk=expired.pk).status == ReminderStatus.EXPIRED
    with django_capture_on_commit_callbacks(execute=True):
        again = reminders_dispatch(now=now, enqueue=enqueue)
    assert again.claimed == 0
    assert enqueue.ids == [due_now.pk]


def test_dispatch_works_in_batches(patient: Any, enqueue: Recorder, django_capture_on_commit_callbacks: Any) -> None:
    now = utc(2026, 5, 4)
    rows = [make_reminder(patient, send_at=now - dt.timedelta(minutes=i)) for i in range(7)]
    with django_capture_on_commit_callbacks(execute=True):
        result = reminders_dispatch(now=now, batch_size=3, enqueue=enqueue)
    assert result.claimed == 7
    assert sorted(enqueue.ids) == sorted(r.pk for r in rows)


def test_stale_sending_rows_are_requeued(
    patient: Any, enqueue: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    now = utc(2026, 5, 4, 12)
    lost = make_reminder(
        patient,
        send_at=now - dt.timedelta(hours=1),
        status=ReminderStatus.SENDING,
        claimed_at=now - dt.timedelta(minutes=11),
    )
    busy = make_reminder(
        patient,
        send_at=now - dt.timedelta(hours=1),
        status=ReminderStatus.SENDING,
        claimed_at=now - dt.timedelta(minutes=3),
    )
    gone = make_reminder(
        patient,
        send_at=now - dt.timedelta(hours=30),
        status=ReminderStatus.SENDING,
        claimed_at=now - dt.timedelta(hours=29),
    )
    done = make_reminder(
        patient,
        send_at=now - dt.timedelta(hours=1),
        status=ReminderStatus.SENDING,
        claimed_at=now - dt.timedelta(minutes=20),
    )
    Delivery.objects.create(reminder=done, attempt=1, outcome="sent")
    with django_capture_on_commit_callbacks(execute=True):
        result = reminders_dispatch(now=now, enqueue=enqueue)
    assert enqueue.ids == [lost.pk]
    assert result.requeued == 1
    lost.refresh_from_db()
    assert (lost.status, lost.claimed_at, lost.attempts) == (ReminderStatus.SENDING, now, 1)
    assert Reminder.objects.get(pk=busy.pk).status == ReminderStatus.SENDING
    assert Reminder.objects.get(pk=gone.pk).status == ReminderStatus.EXPIRED
    assert Reminder.objects.get(pk=done.pk).status == ReminderStatus.SENT


# --- sender and ledger ------------------------------------------------------------------------------


def test_send_in_app_exactly_once(patient: Any) -> None:
    now = utc(2026, 5, 4)
    reminder = make_reminder(
        patient, send_at=now, status=ReminderStatus.SENDING, claimed_at=now, kind=Reminder.Kind.ESCALATION
    )
    assert reminder_deliver(reminder.pk, now=now) is Outcome.SENT
    assert reminder_deliver(reminder.pk, now=now) is Outcome.NOT_CLAIMED
    assert Notification.objects.filter(user=patient.user).count() == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.sent_at, reminder.attempts) == (ReminderStatus.SENT, now, 1)
    ledger = Delivery.objects.get(reminder=reminder)
    assert ledger.outcome == "sent"
    assert ledger.provider_ref.startswith("notification:")


def test_ledger_row_stops_a_second_send(patient: Any) -> None:
    now = utc(2026, 5, 4)
    reminder = make_reminder(patient, send_at=now, status=ReminderStatus.SENDING, claimed_at=now)
    Delivery.objects.create(reminder=reminder, attempt=1, outcome="sent")
    assert reminder_deliver(reminder.pk, now=now) is Outcome.ALREADY_SENT
    assert not Notification.objects.exists()
    assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENT
    assert reminder_deliver(10**9, now=now) is Outcome.MISSING


def test_early_completion_skips_pending_and_claimed_reminders(
    therapist: Any, patient: Any, no_broker: list[int]
) -> None:
    diary_protocol(therapist, patient, now=utc(2026, 5, 3, 12), start=dt.date(2026, 5, 4))
    today = DueItem.objects.get(patient=patient, local_date=dt.date(2026, 5, 4))
    tomorrow = DueItem.objects.get(patient=patient, local_date=dt.date(2026, 5, 5))
    claimed = tomorrow.reminders.get()
    Reminder.objects.filter(pk=claimed.pk).update(status=ReminderStatus.SENDING, claimed_at=utc(2026, 5, 5, 1))
    # 07:00 in Shanghai on 4 May: before the 09:00 diary is due.
    at = utc(2026, 5, 3, 23)
    assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="nrs",
        answers={"score": 3},
        recorded_at=at,
        client_uuid=uuid.uuid4(),
        source="patient",
        now=at,
    )
    today.refresh_from_db()
    assert today.status == DueStatus.COMPLETED
    assert today.reminders.get().status == ReminderStatus.SKIPPED
    assert DueItem.objects.get(pk=tomorrow.pk).status == DueStatus.PENDING
    # A reminder claimed before the answer arrived is skipped by the sender's re-check.
    at2 = utc(2026, 5, 5, 0, 30)
    assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="nrs",
        answers={"score": 2},
        recorded_at=at2,
        client_uuid=uuid.uuid4(),
        source="patient",
        now=at2,
    )
    assert reminder_deliver(claimed.pk, now=utc(2026, 5, 5, 1)) is Outcome.SKIPPED
    assert not Notification.objects.exists()
    assert Delivery.objects.get(reminder=claimed).outcome == "skipped"


def test_one_entry_completes_one_item(therapist: Any, patient: Any, no_broker: list[int]) -> None:
    diary_protocol(therapist, patient, now=utc(2026, 5, 3, 12), start=dt.date(2026, 5, 4))
    at = utc(2026, 5, 5, 0)  # 08:00 on 5 May: 4 May's window is still open, 5 May's is today
    assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="nrs",
        answers={"score": 3},
        recorded_at=at,
        client_uuid=uuid.uuid4(),
        source="patient",
        now=at,
    )
    statuses = dict(DueItem.objects.filter(patient=patient).values_list("local_date", "status"))
    assert statuses == {dt.date(2026, 5, 4): DueStatus.PENDING, dt.date(2026, 5, 5): DueStatus.COMPLETED}


def test_late_synced_entry_turns_a_miss_into_completed(therapist: Any, patient: Any, no_broker: list[int]) -> None:
    diary_protocol(therapist, patient, now=utc(2026, 5, 3, 12), start=dt.date(2026, 5, 4))
    due_items_close(now=utc(2026, 5, 5, 2))
    item = DueItem.objects.get(patient=patient, local_date=dt.date(2026, 5, 4))
    assert item.status == DueStatus.MISSED
    recorded = utc(2026, 5, 4, 12)  # made offline on time, synced a day later
    assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="nrs",
        answers={"score": 3},
        recorded_at=recorded,
        client_uuid=uuid.uuid4(),
        source="patient",
        now=utc(2026, 5, 5, 3),
    )
    assert DueItem.objects.get(pk=item.pk).status == DueStatus.COMPLETED


class FlakyChannel:
    code = "in_app"
    error: type[Exception] = TransientChannelError

    def send(self, reminder: Any, message: Message) -> str:
        raise self.error("provider said no")


@pytest.fixture
def flaky(monkeypatch: Any) -> type[FlakyChannel]:
    monkeypatch.setenv("REMINDER_TEST_CHANNELS", "in_app=tests.assessments.test_reminders.FlakyChannel")
    FlakyChannel.error = TransientChannelError
    return FlakyChannel


def test_transient_errors_retry_then_fail(patient: Any, flaky: Any) -> None:
    now = utc(2026, 5, 4)
    reminder = make_reminder(
        patient, send_at=now, status=ReminderStatus.SENDING, claimed_at=now - dt.timedelta(minutes=1)
    )
    assert reminder_deliver(reminder.pk, now=now) is Outcome.RETRY
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.claimed_at) == (ReminderStatus.SENDING, 1, now)
    assert reminder_deliver(reminder.pk, now=now, final_attempt=True) is Outcome.FAILED
    assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.FAILED
    assert list(Delivery.objects.filter(reminder=reminder).order_by("attempt").values_list("attempt", "outcome")) == [
        (1, "transient_error"),
        (2, "transient_error"),
    ]


def test_permanent_errors_do_not_retry(patient: Any, flaky: Any) -> None:
    flaky.error = PermanentChannelError
    now = utc(2026, 5, 4)
    reminder = make_reminder(patient, send_at=now, status=ReminderStatus.SENDING, claimed_at=now)
    assert reminder_deliver(reminder.pk, now=now) is Outcome.FAILED
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.FAILED
    assert reminder.last_error == "provider said no"


def test_task_retries_only_transient_errors() -> None:
    from assessments.tasks import reminder_send

    assert reminder_send.autoretry_for == (TransientChannelError,)
    assert reminder_send.acks_late
    assert reminder_send.reject_on_worker_lost
    assert reminder_send.max_retries == 5
    assert reminder_send.retry_backoff_max < 600  # a row awaiting its retry is never stale


# --- messages and channels ---------------------------------------------------------------------------


def test_messages_are_in_the_patients_language_and_time_zone(therapist: Any, clinic: Any) -> None:
    patient = make_patient(
        clinic, user=make_user(), therapists=(therapist,), time_zone="America/New_York", language="zh-hans"
    )
    diary_protocol(therapist, patient, now=utc(2026, 3, 7, 6), start=dt.date(2026, 3, 7))
    reminder = Reminder.objects.get(due_item__local_date=dt.date(2026, 3, 8))
    message = reminder_message(reminder)
    assert message.title.startswith("请填写")
    assert "3月8日 周日 09:00" in message.body
    assert "America/New_York" in message.body
    patient.language = "en"
    patient.save(update_fields=["language"])
    message = reminder_message(Reminder.objects.get(pk=reminder.pk))
    assert message.title == "Time for your Numeric rating scale for pain (0-10)"
    assert "Sun 8 Mar 09:00" in message.body
    assert local_text(utc(2026, 11, 1, 14), "America/New_York", "en") == "Sun 1 Nov 09:00"


def test_email_channel_uses_stable_message_id(patient: Any, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    patient.user.email = "p@example.org"
    patient.user.save(update_fields=["email"])
    reminder = make_reminder(patient, send_at=utc(2026, 5, 4), channel="email")
    message = Message("Title", "Body", "/app/", "en", reminder.dedupe_key)
    ref = EmailChannel().send(reminder, message)
    assert EmailChannel().send(reminder, message) == ref
    assert [m.to for m in mail.outbox] == [["p@example.org"], ["p@example.org"]]
    assert mail.outbox[0].extra_headers["Message-ID"] == ref


def test_email_errors_are_classified(patient: Any, monkeypatch: Any) -> None:
    patient.user.email = "p@example.org"
    patient.user.save(update_fields=["email"])
    reminder = make_reminder(patient, send_at=utc(2026, 5, 4), channel="email")
    message = Message("T", "B", "", "en", "tag")
    for exc, expected in [
        (smtplib.SMTPServerDisconnected("gone"), TransientChannelError),
        (smtplib.SMTPResponseException(451, b"try later"), TransientChannelError),
        (smtplib.SMTPResponseException(550, b"no such user"), PermanentChannelError),
        (smtplib.SMTPRecipientsRefused({"p@example.org": (550, b"no")}), PermanentChannelError),
    ]:
        monkeypatch.setattr(
            "django.core.mail.EmailMessage.send", lambda self, fail_silently=False, exc=exc: (_ for _ in ()).throw(exc)
        )
        with pytest.raises(expected):
            EmailChannel().send(reminder, message)
    reminder.recipient.email = ""
    with pytest.raises(PermanentChannelError):
        EmailChannel().send(reminder, message)


class FakeResponse:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.text = ""
        self.headers: dict[str, str] = {}


def test_web_push_removes_gone_subscriptions(patient: Any, settings: Any, monkeypatch: Any) -> None:
    from pywebpush import WebPushException

    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = "pub", "priv"
    gone = PushSubscription.objects.create(
        user=patient.user, endpoint="https://push.example/gone", p256dh="k", auth="a"
    )
    busy = PushSubscription.objects.create(
        user=patient.user, endpoint="https://push.example/busy", p256dh="k", auth="a"
    )
    calls: list[dict[str, Any]] = []

    def fake_webpush(subscription_info: dict[str, Any], **kwargs: Any) -> FakeResponse:
        calls.append(kwargs)
        status = 410 if subscription_info["endpoint"].endswith("gone") else 503
        raise WebPushException("push failed", response=FakeResponse(status))

    monkeypatch.setattr("pywebpush.webpush", fake_webpush)
    reminder = make_reminder(patient, send_at=utc(2026, 5, 4), channel="push")
    message = Message("T", "B", "/app/", "en", reminder.dedupe_key)
    with pytest.raises(TransientChannelError):
        WebPushChannel().send(reminder, message)
    assert not PushSubscription.objects.filter(pk=gone.pk).exists()
    assert calls[0]["headers"]["Topic"] == calls[1]["headers"]["Topic"]
    assert calls[0]["vapid_claims"] == {"sub": settings.VAPID_SUBJECT}

    def gone_webpush(subscription_info: dict[str, Any], **kwargs: Any) -> FakeResponse:
        raise WebPushException("push failed", response=FakeResponse(404))

    monkeypatch.setattr("pywebpush.webpush", gone_webpush)
    with pytest.raises(PermanentChannelError):
        WebPushChannel().send(reminder, message)
    assert not PushSubscription.objects.filter(pk=busy.pk).exists()
    with pytest.raises(PermanentChannelError):
        WebPushChannel().send(reminder, message)  # nothing left to push to


def test_web_push_not_configured_is_permanent(patient: Any, settings: Any) -> None:
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    reminder = make_reminder(patient, send_at=utc(2026, 5, 4), channel="push")
    with pytest.raises(PermanentChannelError):
        WebPushChannel().send(reminder, Message("T", "B", "", "en", "t"))


class RecordingSms:
    sent: list[tuple[str, str]] = []

    def send(self, number: str, text: str) -> str:
        self.sent.append((number, text))
        return "sms-1"


def test_sms_backend_is_pluggable(therapist: Any, clinic: Any, settings: Any) -> None:
    settings.SMS_BACKEND = "tests.assessments.test_reminders.RecordingSms"
    patient = make_patient(clinic, therapists=(therapist,), language="zh-hans")
    consent_record(actor=Actor(user=therapist), patient=patient, kind="reminders", granted=True)
    diary_protocol(
        therapist,
        patient,
        now=utc(2026, 5, 3, 12),
        start=dt.date(2026, 5, 4),
        channels=["sms"],
        sms_number="+8613800138000",
    )
    reminder = Reminder.objects.get(due_item__local_date=dt.date(2026, 5, 4))
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SENDING)
    assert reminder_deliver(reminder.pk, now=utc(2026, 5, 4, 1)) is Outcome.SENT
    number, text = RecordingSms.sent[-1]
    assert number == "+8613800138000"
    assert "5月4日" in text
    assert channels_module.LogSmsBackend().send("+1", "x").startswith("log:")


def test_withdrawn_consent_stops_external_reminders_at_send_time(therapist: Any, clinic: Any) -> None:
    patient = make_patient(clinic, therapists=(therapist,))
    consent_record(actor=Actor(user=therapist), patient=patient, kind="reminders", granted=True)
    diary_protocol(
        therapist,
        patient,
        now=utc(2026, 5, 3, 12),
        start=dt.date(2026, 5, 4),
        channels=["sms"],
        sms_number="+8613800138000",
    )
    reminder = Reminder.objects.get(due_item__local_date=dt.date(2026, 5, 4))
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SENDING)
    consent_record(actor=Actor(user=therapist), patient=patient, kind="reminders", granted=False)
    assert reminder_deliver(reminder.pk, now=utc(2026, 5, 4, 1)) is Outcome.SKIPPED


# --- missed diaries ----------------------------------------------------------------------------------


def test_three_missed_diaries_raise_one_alert_per_run(therapist: Any, patient: Any, no_broker: list[int]) -> None:
    start = dt.date(2026, 5, 1)
    diary_protocol(therapist, patient, now=utc(2026, 4, 30, 12), start=start)
    for day in range(1, 12):
        from assessments.reminders.protocols import due_items_plan

        due_items_plan(patient.pk, utc(2026, 5, day))

    def close(day: int, hour: int = 2) -> int:
        return due_items_close(now=utc(2026, 5, day, hour)).alerts

    assert close(2) == 0  # 1 May missed
    assert close(3) == 0  # 2 May missed
    assert close(4) == 1  # 3 May: third in a row
    assert close(5) == 0  # the run goes on: same alert
    alert = Alert.objects.get(kind="missed_logs")
    assert alert.patient_id == patient.pk
    assert alert.severity == "warning"
    # An entry on 5 May ends the run; three more misses make a new alert.
    at = utc(2026, 5, 5, 3)
    assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="nrs",
        answers={"score": 3},
        recorded_at=at,
        client_uuid=uuid.uuid4(),
        source="patient",
        now=at,
    )
    assert close(6) + close(7) + close(8) == 0
    assert close(9) == 1
    assert Alert.objects.filter(kind="missed_logs").count() == 2


# --- alerts --------------------------------------------------------------------------------------------


@pytest.fixture
def team(clinic: Any, therapist: Any, patient: Any) -> dict[str, Any]:
    therapist.email = "t1@example.org"
    therapist.save(update_fields=["email"])
    second = make_staff(clinic, "therapist")
    second.email = "t2@example.org"
    second.save(update_fields=["email"])
    from patients.models import CareTeamMember

    CareTeamMember.objects.create(patient=patient, user=second)
    manager = make_staff(clinic, "manager")
    manager.email = "m@example.org"
    manager.save(update_fields=["email"])
    return {"therapists": [therapist, second], "manager": manager}


def test_safety_alert_fans_out_to_the_care_team_at_once(
    patient: Any, team: dict[str, Any], enqueue: Recorder, no_broker: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    alert, _created = alert_raise(
        patient=patient,
        kind="suicidal_ideation",
        severity="critical",
        message="PHQ-9 item 9 answered 2",
        dedupe_key="t:1",
    )
    now = utc(2026, 5, 4)
    with django_capture_on_commit_callbacks(execute=True):
        told = alert_fan_out(alert.pk, now=now, enqueue=enqueue)
    assert told == 2
    for user in team["therapists"]:
        assert Notification.objects.filter(user=user, patient=patient).count() == 1
    emails = Reminder.objects.filter(alert=alert, channel="email")
    assert sorted(emails.values_list("recipient__email", flat=True)) == ["t1@example.org", "t2@example.org"]
    assert set(emails.values_list("status", flat=True)) == {ReminderStatus.SENDING}  # claimed, not waiting a minute
    assert sorted(enqueue.ids) == sorted(emails.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_fan_out(alert.pk, now=now, enqueue=enqueue) == 0
    assert Notification.objects.count() == 2
    # The e-mail carries no name or answers, only where to look.
    reminder = emails.first()
    message = reminder_message(reminder)
    assert patient.display_name not in message.title + message.body
    assert "answered" not in message.body
    assert message.url == f"/clinic/patients/{patient.pk}/"


def test_unacknowledged_safety_alert_escalates_to_managers_once(
    patient: Any,
    team: dict[str, Any],
    enqueue: Recorder,
    no_broker: list[int],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SAFETY_ALERT_ESCALATE_MINUTES = 30
    alert, _ = alert_raise(
        patient=patient, kind="suicidal_ideation", severity="critical", message="x", dedupe_key="t:2"
    )
    calm, _ = alert_raise(patient=patient, kind="worsening_pain", severity="warning", message="y", dedupe_key="t:3")
    created = alert.created_at
    Alert.objects.update(notified_at=created)
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_escalate(now=created + dt.timedelta(minutes=29), enqueue=enqueue).escalated == 0
        result = alerts_escalate(now=created + dt.timedelta(minutes=31), enqueue=enqueue)
    assert result.escalated == 1
    alert.refresh_from_db()
    assert alert.escalated_at == created + dt.timedelta(minutes=31)
    rows = Reminder.objects.filter(alert=alert, kind=Reminder.Kind.ESCALATION)
    assert set(rows.values_list("recipient_id", "channel")) == {
        (team["manager"].pk, "in_app"),
        (team["manager"].pk, "email"),
    }
    assert sorted(enqueue.ids) == sorted(rows.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_escalate(now=created + dt.timedelta(minutes=60), enqueue=enqueue).escalated == 0
    assert not Reminder.objects.filter(alert=calm).exists()
    # Acknowledged before the sender ran: the escalation message is skipped.
    Alert.objects.filter(pk=alert.pk).update(acknowledged_at=created + dt.timedelta(minutes=32))
    assert reminder_deliver(rows.first().pk, now=created + dt.timedelta(minutes=33)) is Outcome.SKIPPED


def test_lost_fan_out_is_caught_up(
    patient: Any, team: dict[str, Any], enqueue: Recorder, no_broker: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    alert, _ = alert_raise(
        patient=patient, kind="severe_adverse_event", severity="critical", message="x", dedupe_key="t:4"
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = alerts_escalate(now=alert.created_at + dt.timedelta(minutes=2), enqueue=enqueue)
    assert result.caught_up == 1
    assert Alert.objects.get(pk=alert.pk).notified_at is not None
    assert Notification.objects.count() == 2


# --- API -------------------------------------------------------------------------------------------------


def test_push_subscription_api(patient_client: Any, patient: Any, therapist_client: Any, therapist: Any) -> None:
    body = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
        "keys": {"p256dh": "BNc_x-1", "auth": "tBHI"},
        "expirationTime": None,
    }
    response = patient_client.post("/api/v1/push-subscriptions/", body, format="json")
    assert response.status_code == 201, response.content
    assert patient_client.post("/api/v1/push-subscriptions/", body, format="json").status_code == 200
    # The same browser, now logged in as the therapist: the subscription moves.
    assert therapist_client.post("/api/v1/push-subscriptions/", body, format="json").status_code == 200
    assert PushSubscription.objects.get().user_id == therapist.pk
    bad = patient_client.post(
        "/api/v1/push-subscriptions/", {"endpoint": "http://x.example/", "keys": {"p256dh": "a b"}}, format="json"
    )
    assert bad.status_code == 400
    assert "endpoint" in bad.json()
    bad = patient_client.post(
        "/api/v1/push-subscriptions/", {"endpoint": "https://x.example/", "keys": {"p256dh": "a b"}}, format="json"
    )
    assert set(bad.json()["keys"]) == {"p256dh", "auth"}
    assert (
        therapist_client.delete(
            "/api/v1/push-subscriptions/", {"endpoint": body["endpoint"]}, format="json"
        ).status_code
        == 204
    )
    assert not PushSubscription.objects.exists()


def test_vapid_key_api(patient_client: Any, settings: Any) -> None:
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = "BPub", "priv"
    assert patient_client.get("/api/v1/push/vapid-key/").json() == {"public_key": "BPub", "enabled": True}


def test_notifications_api(patient_client: Any, patient: Any, therapist: Any, django_assert_num_queries: Any) -> None:
    mine = [Notification.objects.create(user=patient.user, patient=patient, title=f"n{i}") for i in range(3)]
    theirs = Notification.objects.create(user=therapist, title="not yours")
    with django_assert_num_queries(4):
        response = patient_client.get("/api/v1/notifications/")
    assert response.status_code == 200
    assert [n["title"] for n in response.json()["results"]] == ["n2", "n1", "n0"]
    assert patient_client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    response = patient_client.post(f"/api/v1/notifications/{mine[0].pk}/read/")
    assert response.status_code == 200
    assert response.json()["read_at"]
    assert [n["title"] for n in patient_client.get("/api/v1/notifications/?unread=true").json()["results"]] == [
        "n2",
        "n1",
    ]


def test_alert_api_list_and_acknowledge(
    patient: Any, therapist_client: Any, manager_client: Any, api_client_for: Any, clinic: Any, no_broker: list[int]
) -> None:
    alert, _ = alert_raise(
        patient=patient, kind="suicidal_ideation", severity="critical", message="x", dedupe_key="t:5"
    )
    url = f"/api/v1/patients/{patient.pk}/alerts/"
    listed = therapist_client.get(url + "?open=true").json()["results"]
    assert [a["id"] for a in listed] == [alert.pk]
    assert manager_client.get(url).status_code == 200
    ack = f"/api/v1/alerts/{alert.pk}/acknowledge/"
    assert manager_client.post(ack, {"note": "seen"}, format="json").status_code == 404
    assert api_client_for(make_staff(clinic, "therapist")).post(ack, {}, format="json").status_code == 404
    refused = therapist_client.post(ack, {"note": "called the patient"}, format="json")
    assert refused.status_code == 400
    assert "action" in refused.json()
    assert therapist_client.post(ack, {"action": "no_action_needed"}, format="json").json().keys() == {"reason"}
    assert therapist_client.post(ack, {"action": "phoned"}, format="json").json().keys() == {"action"}
    response = therapist_client.post(ack, {"action": "contacted_patient", "note": "called the patient"}, format="json")
    assert response.status_code == 200
    assert response.json()["is_open"] is False
    assert response.json()["acknowledgement_action"] == "contacted_patient"
    assert response.json()["acknowledgement_note"] == "called the patient"
    assert therapist_client.get(url + "?open=true").json()["results"] == []
    assert therapist_client.post("/api/v1/alerts/999999/acknowledge/", {}, format="json").status_code == 404
