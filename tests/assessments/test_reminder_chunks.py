"""Handing many reminders to the workers in chunks: how claims are cut, and a chunk task
that sends each reminder once, retries one transient failure on its own and hands its
rest over when it runs long. No broker: what would be published is recorded."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

import pytest

from assessments.alerts import tasks
from assessments.alerts.channels import InAppChannel, Message, TransientChannelError, WebPushChannel
from assessments.models import Delivery, Notification, Reminder, ReminderStatus

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 4, 1, tzinfo=dt.UTC)


def claims(count: int) -> list[tuple[int, dt.datetime]]:
    return [(pk, NOW + dt.timedelta(minutes=pk)) for pk in range(1, count + 1)]


@pytest.mark.parametrize("count", [65, 100, 1000, 5003])
def test_large_hand_overs_are_cut_into_even_chunks(count: int) -> None:
    chunks = tasks._chunks(claims(count))
    ids = [pk for chunk, _expires in chunks for pk in chunk]
    assert ids == list(range(1, count + 1))  # every reminder once, in order
    assert all(len(chunk) <= tasks.CHUNK_MAX for chunk, _expires in chunks)
    assert len(chunks) >= min(count, tasks.SINGLE_UP_TO)  # spread over the workers
    sizes = [len(chunk) for chunk, _expires in chunks]
    assert max(sizes) - min(sizes) <= 1  # even
    for chunk, expires in chunks:  # a message expires with the last of its reminders
        assert expires == NOW + dt.timedelta(minutes=max(chunk))


class Published:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dt.datetime | None]] = []

    def __call__(self, task: Any, calls: Any, *, queue: str | None = None) -> None:
        self.calls.extend((task.name, arg, expires) for arg, expires in calls)


@pytest.fixture
def published(monkeypatch: Any) -> Published:
    recorder = Published()
    monkeypatch.setattr(tasks, "_publish", recorder)
    return recorder


def test_small_hand_overs_go_one_message_per_reminder(published: Published) -> None:
    tasks.reminders_enqueue(claims(tasks.SINGLE_UP_TO))
    assert [(name, arg) for name, arg, _expires in published.calls] == [
        ("assessments.reminder_send", pk) for pk in range(1, tasks.SINGLE_UP_TO + 1)
    ]
    assert published.calls[0][2] == NOW + dt.timedelta(minutes=1)


def test_large_hand_overs_go_in_chunks(published: Published) -> None:
    tasks.reminders_enqueue(claims(1000))
    assert {name for name, _arg, _expires in published.calls} == {"assessments.reminders_send"}
    assert sum(len(arg) for _name, arg, _expires in published.calls) == 1000


def make_claimed(patient: Any, count: int) -> list[int]:
    rows = Reminder.objects.bulk_create(
        [
            Reminder(
                kind=Reminder.Kind.MISSED,
                patient=patient,
                recipient_id=patient.user_id,
                channel="in_app",
                send_at=NOW,
                expires_at=NOW + dt.timedelta(days=3650),
                status=ReminderStatus.SENDING,
                claimed_at=NOW,
                dedupe_key=f"chunk:{uuid.uuid4()}",
            )
            for _ in range(count)
        ]
    )
    return [row.pk for row in rows]


class SometimesFlaky(InAppChannel):
    """In-app, except for the reminders named in ``transient`` / ``broken``."""

    transient: ClassVar[set[int]] = set()
    broken: ClassVar[set[int]] = set()

    def send(self, reminder: Any, message: Message) -> str:
        if reminder.pk in self.transient:
            raise TransientChannelError("try later")
        if reminder.pk in self.broken:
            raise RuntimeError("a bug, not a channel error")
        return super().send(reminder, message)


@pytest.fixture
def sometimes_flaky(monkeypatch: Any) -> type[SometimesFlaky]:
    monkeypatch.setenv("REMINDER_TEST_CHANNELS", "in_app=tests.assessments.test_reminder_chunks.SometimesFlaky")
    SometimesFlaky.transient, SometimesFlaky.broken = set(), set()
    return SometimesFlaky


def test_a_chunk_sends_each_reminder_once_even_when_delivered_twice(patient: Any) -> None:
    ids = make_claimed(patient, 5)
    tasks.reminders_send(ids)
    tasks.reminders_send(ids)  # the message again, as after a worker died before its ack
    assert set(Reminder.objects.filter(pk__in=ids).values_list("status", flat=True)) == {ReminderStatus.SENT}
    assert Delivery.objects.filter(reminder_id__in=ids, outcome="sent").count() == 5
    assert Notification.objects.filter(user=patient.user).count() == 5


def test_one_failure_does_not_hold_up_the_rest_of_the_chunk(
    patient: Any, sometimes_flaky: type[SometimesFlaky], monkeypatch: Any
) -> None:
    ids = make_claimed(patient, 4)
    sometimes_flaky.transient = {ids[1]}
    sometimes_flaky.broken = {ids[2]}
    retried: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(tasks.reminder_send, "apply_async", lambda args, **options: retried.append((args, options)))
    tasks.reminders_send(ids)
    status = dict(Reminder.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert status[ids[0]] == status[ids[3]] == ReminderStatus.SENT
    # The transient failure goes on as the first retry of that reminder alone.
    assert status[ids[1]] == ReminderStatus.SENDING
    assert [(args, options["retries"]) for args, options in retried] == [((ids[1],), 1)]
    assert 0 <= retried[0][1]["countdown"] <= 30
    # The bug leaves its reminder claimed and unsent, for the stale re-queue.
    assert status[ids[2]] == ReminderStatus.SENDING
    assert not Delivery.objects.filter(reminder_id=ids[2]).exists()


def test_a_chunk_past_its_budget_hands_the_rest_over(patient: Any, published: Published, monkeypatch: Any) -> None:
    ids = make_claimed(patient, 3)
    monkeypatch.setattr(tasks, "CHUNK_BUDGET_SECONDS", -1.0)
    tasks.reminders_send(ids)
    assert Reminder.objects.get(pk=ids[0]).status == ReminderStatus.SENT  # always at least one
    assert published.calls == [("assessments.reminders_send", ids[1:], None)]
    assert set(Reminder.objects.filter(pk__in=ids[1:]).values_list("status", flat=True)) == {ReminderStatus.SENDING}


def test_chunk_task_is_redelivered_when_its_worker_dies() -> None:
    assert tasks.reminders_send.acks_late
    assert tasks.reminders_send.reject_on_worker_lost
    # The budget, plus one send that runs into its provider's timeout, stays inside the limit.
    assert tasks.CHUNK_BUDGET_SECONDS + 2 * WebPushChannel.timeout_seconds < (tasks.reminders_send.soft_time_limit or 0)
