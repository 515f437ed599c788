"""Reminders and alerts through Redis and real ``celery worker`` processes (no eager mode).

Exactly once under concurrent dispatchers and duplicate messages, exactly once when the
worker is SIGKILLed in the middle of a send, reminders at the right UTC instants on DST
days, no reminder after an early entry, and safety alerts at the care team within a minute.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone

from assessments.alerts.fan_out import alerts_escalate as escalate
from assessments.alerts.outbox import reminders_dispatch
from assessments.alerts.tasks import reminders_enqueue
from assessments.capture.services import assessment_record
from assessments.models import (
    Alert,
    Delivery,
    DueItem,
    DueStatus,
    Notification,
    Reminder,
    ReminderStatus,
)
from assessments.reminders.protocols import protocol_apply
from patients.audit import Actor
from patients.models import CareTeamMember
from tests.factories import make_clinic, make_patient, make_staff, make_user
from tests.integration.support import (
    SKIP_REASON,
    VISIBILITY_TIMEOUT,
    backends_ready,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not backends_ready(), reason=SKIP_REASON),
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]

UTC = dt.UTC


def diary_items(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"instrument": "nrs", "every_days": 1, "local_time": "09:00"}, *extra]


def sent_counts(reminder_ids: list[int]) -> tuple[int, int]:
    """(ledger rows 'sent', distinct reminders with one) for the given reminders."""
    rows = list(
        Delivery.objects.filter(reminder_id__in=reminder_ids, outcome="sent").values_list("reminder_id", flat=True)
    )
    return len(rows), len(set(rows))


# --- concurrency ----------------------------------------------------------------------------------


def test_concurrent_dispatchers_and_duplicate_messages_send_each_reminder_once(start_worker: Any) -> None:
    clinic = make_clinic()
    patients = [make_patient(clinic, user=make_user()) for _ in range(30)]
    now = timezone.now()
    items = DueItem.objects.bulk_create(
        [
            DueItem(
                patient=p,
                instrument="nrs",
                due_at=now - dt.timedelta(minutes=k + 1),
                closes_at=now + dt.timedelta(hours=20),
                local_date=now.date(),
            )
            for p in patients
            for k in range(10)
        ]
    )
    Reminder.objects.bulk_create(
        [
            Reminder(
                kind=Reminder.Kind.DUE_ITEM,
                patient_id=i.patient_id,
                due_item=i,
                recipient_id=next(p.user_id for p in patients if p.pk == i.patient_id),
                channel="in_app",
                send_at=i.due_at,
                expires_at=i.closes_at,
                dedupe_key=f"due:{i.pk}:in_app",
            )
            for i in items
        ]
    )
    ids = list(Reminder.objects.values_list("id", flat=True))
    assert len(ids) == 300

    start_worker("w1", concurrency=4)
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(3)

    def recording_enqueue(claims: Any) -> None:
        with lock:
            claimed.extend(pk for pk, _expires in claims)
        reminders_enqueue(claims)

    def dispatcher() -> None:
        try:
            barrier.wait()
            reminders_dispatch(now=now, batch_size=20, enqueue=recording_enqueue)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    # A third dispatcher, the beat task itself, runs in the worker at the same moment.
    from config.celery import app

    barrier.wait()
    app.send_task("assessments.reminders_dispatch")
    for thread in threads:
        thread.join()
    assert len(claimed) == len(set(claimed)), "a reminder was claimed twice"

    # And every message once more, as if a stale re-queue raced the first send.
    reminders_enqueue([(pk, now + dt.timedelta(hours=1)) for pk in ids])

    wait_for(
        lambda: not Reminder.objects.exclude(status=ReminderStatus.SENT).exists(),
        timeout=90,
        what="all 300 reminders sent",
    )
    time.sleep(2)  # let the duplicate messages drain
    wait_for(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).count() == 300, what="sent")
    assert sent_counts(ids) == (300, 300)
    assert Notification.objects.count() == 300
    per_user = Counter(Notification.objects.values_list("user_id", flat=True))
    assert set(per_user.values()) == {10}


def test_worker_killed_mid_send_delivers_exactly_once(start_worker: Any, tmp_path: Path) -> None:
    clinic = make_clinic()
    patient = make_patient(clinic, user=make_user())
    now = timezone.now()
    reminder = Reminder.objects.create(
        kind=Reminder.Kind.MISSED,
        patient=patient,
        recipient=patient.user,
        channel="in_app",
        send_at=now,
        expires_at=now + dt.timedelta(hours=1),
        dedupe_key="kill-test",
    )
    marker = tmp_path / "send-started"
    doomed = start_worker(
        "doomed",
        concurrency=1,
        REMINDER_TEST_CHANNELS="in_app=tests.integration.slow_channel.SlowInAppChannel",
        REMINDER_TEST_SLOW_MARKER=str(marker),
        REMINDER_TEST_SLOW_SECONDS="120",
    )
    assert reminders_dispatch(now=now, enqueue=reminders_enqueue).claimed == 1
    wait_for(marker.exists, timeout=60, what="the send to start")
    started = time.monotonic()
    # The Notification row is written but not committed; the worker dies right here.
    assert Notification.objects.count() == 0
    doomed.kill()
    assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENDING
    assert Notification.objects.count() == 0
    assert not Delivery.objects.filter(reminder=reminder).exists()

    # Redis hands the unacknowledged message out again once the visibility timeout has
    # passed; the new worker's start-up sweep restores it.
    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 1 - (time.monotonic() - started)))
    start_worker("rescuer", concurrency=2)
    wait_for(
        lambda: Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENT, timeout=60, what="redelivered send"
    )
    time.sleep(VISIBILITY_TIMEOUT + 2)  # any further redelivery would have happened by now
    assert Notification.objects.filter(user=patient.user).count() == 1
    assert sent_counts([reminder.pk]) == (1, 1)
    assert Reminder.objects.get(pk=reminder.pk).attempts == 1


def test_lost_enqueue_is_recovered_by_the_stale_requeue(start_worker: Any) -> None:
    patient = make_patient(make_clinic(), user=make_user())
    now = timezone.now()
    reminder = Reminder.objects.create(
        kind=Reminder.Kind.MISSED,
        patient=patient,
        recipient=patient.user,
        channel="in_app",
        send_at=now - dt.timedelta(minutes=15),
        expires_at=now + dt.timedelta(hours=1),
        dedupe_key="lost",
    )
    # Claimed and committed, but the publish never happened (broker down, process killed).
    reminders_dispatch(now=now - dt.timedelta(minutes=12), enqueue=lambda claims: None)
    assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENDING
    start_worker()
    assert (
        reminders_dispatch(now=now - dt.timedelta(minutes=5), enqueue=reminders_enqueue).requeued == 0
    )  # not stale yet
    assert reminders_dispatch(now=now, enqueue=reminders_enqueue).requeued == 1
    wait_for(lambda: Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENT, what="re-queued send")
    assert Notification.objects.count() == 1


# --- time zones -------------------------------------------------------------------------------------


def _transitions(tz: str, after: dt.date) -> tuple[dt.date, dt.date]:
    """The next spring-forward and fall-back dates of ``tz`` after ``after``."""
    zone = ZoneInfo(tz)
    spring = fall = None
    day = after + dt.timedelta(days=1)
    while spring is None or fall is None:
        before = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(12), zone).utcoffset()
        today = dt.datetime.combine(day, dt.time(12), zone).utcoffset()
        if before is not None and today is not None and today != before:
            if today > before and spring is None:
                spring = day
            elif today < before and fall is None:
                fall = day
        day += dt.timedelta(days=1)
    return spring, fall


# The DST days, planned (clock-independent) at the exact UTC instants.
FIXED_DST = {
    "America/New_York": {
        dt.date(2026, 3, 8): dt.datetime(2026, 3, 8, 13, tzinfo=UTC),
        dt.date(2026, 11, 1): dt.datetime(2026, 11, 1, 14, tzinfo=UTC),
    },
    "Europe/Berlin": {
        dt.date(2026, 3, 29): dt.datetime(2026, 3, 29, 7, tzinfo=UTC),
        dt.date(2026, 10, 25): dt.datetime(2026, 10, 25, 8, tzinfo=UTC),
    },
}


@pytest.mark.parametrize("tz", ["America/New_York", "Europe/Berlin"])
def test_dst_days_remind_at_the_right_utc_instant(start_worker: Any, tz: str) -> None:
    clinic = make_clinic(time_zone=tz)
    therapist = make_staff(clinic, "therapist")
    actor = Actor(user=therapist)
    gap_item = {"instrument": "vas", "every_days": 1, "local_time": "02:30"}  # in the spring gap

    # 1. The dates named in the issue: planned instants, whatever today's date is.
    for day, instant in FIXED_DST[tz].items():
        patient = make_patient(clinic, user=make_user(), therapists=(therapist,), time_zone=tz)
        protocol_apply(
            actor=actor,
            patient=patient,
            start_date=day - dt.timedelta(days=5),
            items=diary_items(),
            now=dt.datetime.combine(day, dt.time(0), UTC) - dt.timedelta(hours=12),
        )
        reminder = Reminder.objects.get(patient=patient, due_item__local_date=day)
        assert reminder.send_at == instant, (tz, day)

    # 2. The next real transitions: dispatched at exactly that instant and delivered by
    #    the worker, with the local time in the message.
    zone = ZoneInfo(tz)
    start_worker()
    spring, fall = _transitions(tz, timezone.now().date())
    for day in (spring, fall):
        patient = make_patient(clinic, user=make_user(), therapists=(therapist,), time_zone=tz)
        plan_now = dt.datetime.combine(day, dt.time(0), zone).astimezone(UTC) - dt.timedelta(hours=6)
        protocol_apply(
            actor=actor,
            patient=patient,
            start_date=day - dt.timedelta(days=3),
            items=diary_items(gap_item),
            now=plan_now,
        )
        targets = list(
            Reminder.objects.filter(patient=patient, due_item__local_date=day)
            .select_related("due_item")
            .order_by("send_at")
        )
        assert {r.due_item.instrument for r in targets} == {"nrs", "vas"}
        for reminder in targets:
            local_time = dt.time(9) if reminder.due_item.instrument == "nrs" else dt.time(2, 30)
            # PEP 495 fold=0: a gap time is read with the pre-transition offset (pushed
            # forward by the gap), an ambiguous one is its first occurrence.
            expected = dt.datetime.combine(day, local_time).replace(tzinfo=zone, fold=0).astimezone(UTC)
            assert reminder.send_at == expected, (tz, day, reminder.due_item.instrument)
            reminders_dispatch(now=reminder.send_at - dt.timedelta(seconds=1), enqueue=reminders_enqueue)
            assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.PENDING
            reminders_dispatch(now=reminder.send_at, enqueue=reminders_enqueue)
            assert Reminder.objects.get(pk=reminder.pk).status != ReminderStatus.PENDING
        target_ids = [r.pk for r in targets]
        wait_for(
            lambda ids=target_ids: Reminder.objects.filter(pk__in=ids, status=ReminderStatus.SENT).count() == len(ids),
            what="DST reminders sent",
        )
        bodies = list(Notification.objects.filter(user=patient.user).values_list("body", flat=True))
        assert any("09:00" in body for body in bodies), bodies
        expected_gap = (
            dt.datetime.combine(day, dt.time(2, 30)).replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)
        )
        assert any(f"{expected_gap:%H:%M}" in body for body in bodies), bodies


# --- early completion ----------------------------------------------------------------------------------


def test_patient_who_answers_early_gets_no_reminder(start_worker: Any) -> None:
    tz = "Asia/Shanghai"
    zone = ZoneInfo(tz)
    clinic = make_clinic(time_zone=tz)
    therapist = make_staff(clinic, "therapist")
    patient = make_patient(clinic, user=make_user(), therapists=(therapist,), time_zone=tz)
    now = timezone.now()
    tomorrow = now.astimezone(zone).date() + dt.timedelta(days=1)
    protocol_apply(actor=Actor(user=therapist), patient=patient, start_date=tomorrow, items=diary_items(), now=now)
    first, second = DueItem.objects.filter(patient=patient).order_by("due_at")[:2]
    start_worker()

    def record(at: dt.datetime) -> None:
        assessment_record(
            actor=Actor(user=patient.user),
            patient=patient,
            instrument="nrs",
            answers={"score": 2},
            recorded_at=at,
            client_uuid=uuid.uuid4(),
            source="patient",
            now=at,
        )

    # Answered at 07:00, two hours before the diary is due: the reminder never goes out.
    record(first.due_at - dt.timedelta(hours=2))
    assert DueItem.objects.get(pk=first.pk).status == DueStatus.COMPLETED
    assert reminders_dispatch(now=first.due_at, enqueue=reminders_enqueue).claimed == 0
    assert Reminder.objects.get(due_item=first).status == ReminderStatus.SKIPPED

    # Answered in the instant between the claim and the send: the sender re-checks.
    with transaction.atomic():
        assert reminders_dispatch(now=second.due_at, enqueue=reminders_enqueue).claimed == 1
        record(second.due_at - dt.timedelta(minutes=1))
    wait_for(
        lambda: Reminder.objects.get(due_item=second).status == ReminderStatus.SKIPPED,
        what="claimed reminder skipped by the worker",
    )
    assert Delivery.objects.get(reminder__due_item=second).outcome == "skipped"
    assert not Notification.objects.filter(user=patient.user).exists()


# --- safety alerts --------------------------------------------------------------------------------------


def test_safety_alert_reaches_the_care_team_within_a_minute(start_worker: Any, mail_dir: Path) -> None:
    clinic = make_clinic()
    therapists = [make_staff(clinic, "therapist") for _ in range(2)]
    for index, user in enumerate(therapists):
        user.email = f"therapist{index}@clinic.example"
        user.save(update_fields=["email"])
    manager = make_staff(clinic, "manager")
    manager.email = "manager@clinic.example"
    manager.save(update_fields=["email"])
    patient = make_patient(clinic, user=make_user(), therapists=tuple(therapists))
    assert CareTeamMember.objects.filter(patient=patient).count() == 2
    start_worker()

    answers = {f"item{i}": 1 for i in range(1, 10)}
    began = time.monotonic()
    recorded = assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="phq9",
        answers=answers,
        recorded_at=timezone.now(),
        client_uuid=uuid.uuid4(),
        source="patient",
    )
    assert "suicidal_ideation" in recorded.assessment.flags
    alert = Alert.objects.get(patient=patient, kind="suicidal_ideation")

    def team_told() -> bool:
        inbox = all(Notification.objects.filter(user=t, patient=patient).exists() for t in therapists)
        emails = Reminder.objects.filter(
            alert=alert, kind=Reminder.Kind.ALERT, channel="email", status=ReminderStatus.SENT
        ).count()
        return inbox and emails == 2

    wait_for(team_told, timeout=60, what="the care team to be told")
    elapsed = time.monotonic() - began
    assert elapsed < 60
    mail_text = "\n".join(p.read_text(encoding="utf-8") for p in mail_dir.glob("*.log"))
    for user in therapists:
        assert user.email in mail_text
    assert patient.display_name not in mail_text  # no names in e-mail
    print(f"safety alert reached the care team in {elapsed:.1f}s")  # noqa: T201

    # Nobody acknowledged it: escalation to the clinic's manager, once.
    assert escalate(now=alert.created_at + dt.timedelta(minutes=31), enqueue=reminders_enqueue).escalated == 1
    assert escalate(now=alert.created_at + dt.timedelta(minutes=32), enqueue=reminders_enqueue).escalated == 0
    wait_for(lambda: Notification.objects.filter(user=manager).count() == 1, what="the manager's escalation")
    wait_for(
        lambda: (
            Reminder.objects.filter(alert=alert, kind=Reminder.Kind.ESCALATION, status=ReminderStatus.SENT).count() == 2
        ),
        what="escalation e-mail",
    )
    assert Alert.objects.get(pk=alert.pk).escalated_at is not None
