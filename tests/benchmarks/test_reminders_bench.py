"""Claiming and enqueueing 100k due reminders. PostgreSQL + Redis only.

Two dispatchers run at once (as two workers' beat-triggered runs would), each claiming
with ``FOR UPDATE SKIP LOCKED`` and publishing send messages (chunks of reminders) to
Redis after each batch commits. The messages go to a queue of their own that no worker
consumes; afterwards every message is read back and its reminder ids counted.
Prints ``BENCH reminders_claim_enqueue n=... seconds=... duplicates=...`` with the CPU
the dispatchers (one Python process, two threads) and their two PostgreSQL backends
spent, which moves far less than wall time on a shared machine; asserts only
correctness (no duplicates, none missing), never timing. Target: <= 10 s, 0 duplicates.

Then the other end: a real ``celery worker`` (prefork, ``BENCH_DRAIN_CONCURRENCY``,
default 2) drains ``BENCH_DRAIN_N`` (default 20,000) claimed in-app reminders from the
broker. Prints ``BENCH reminders_drain n=... per_s=... worker_cpu_ms_per_reminder=...``
(the drain rate docs/capacity.md sizes workers from) and, without Celery,
``BENCH reminders_deliver_unit_cost`` (CPU of one send in Python and in PostgreSQL);
asserts every reminder sent exactly once.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from assessments.alerts.outbox import Outcome, reminder_deliver, reminders_dispatch
from assessments.alerts.tasks import reminders_enqueue
from assessments.models import Delivery, Notification, Reminder, ReminderStatus
from tests.benchmarks.test_capture_bench import _db_url, _server_cpu_seconds
from tests.factories import make_clinic, make_patient, make_user
from tests.integration.support import Worker, wait_for

N = int(os.environ.get("BENCH_REMINDERS_N", "100000"))
DISPATCHERS = 2
DRAIN_N = int(os.environ.get("BENCH_DRAIN_N", "20000"))
DRAIN_CONCURRENCY = int(os.environ.get("BENCH_DRAIN_CONCURRENCY", "2"))

pytestmark = [
    pytest.mark.bench,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (
            os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
            and os.environ.get("CELERY_BROKER_URL", "").startswith("redis://")
        ),
        reason="benchmark needs DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://...",
    ),
]


def _seed(now: dt.datetime, count: int = N) -> None:
    clinic = make_clinic()
    patients = [make_patient(clinic, user=make_user()) for _ in range(100)]
    rows = (
        Reminder(
            kind=Reminder.Kind.MISSED,
            patient_id=patients[i % 100].pk,
            recipient_id=patients[i % 100].user_id,
            channel="in_app",
            send_at=now - dt.timedelta(seconds=i % 3600),
            expires_at=now + dt.timedelta(hours=2),
            dedupe_key=f"bench:{i}",
        )
        for i in range(count)
    )
    batch: list[Reminder] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 10_000:
            Reminder.objects.bulk_create(batch)
            batch = []
    Reminder.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE assessments_reminder")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process on this machine (Linux /proc; 0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _queued_reminder_ids(client: Any, queue: str) -> list[int]:
    ids: list[int] = []
    total = client.llen(queue)
    for start in range(0, total, 10_000):
        for raw in client.lrange(queue, start, start + 9_999):
            message = json.loads(raw)
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            ids.extend(int(pk) for pk in (args[0] if isinstance(args[0], list) else [args[0]]))
    return ids


def test_claim_and_enqueue_100k() -> None:
    from config.celery import app

    now = timezone.now()
    _seed(now)
    assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == N
    queue = f"bench-reminders-{os.getpid()}"
    enqueue = functools.partial(reminders_enqueue, queue=queue)
    claimed: list[list[int]] = [[] for _ in range(DISPATCHERS)]
    backend_cpu = [0.0] * DISPATCHERS
    barrier = threading.Barrier(DISPATCHERS + 1)

    def dispatcher(index: int) -> None:
        def recording(claims: Any) -> None:
            claimed[index].extend(pk for pk, _expires in claims)
            enqueue(claims)

        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
            barrier.wait()
            before = _cpu_seconds(backend)
            reminders_dispatch(now=now, enqueue=recording)
            backend_cpu[index] = _cpu_seconds(backend) - before
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher, args=(i,)) for i in range(DISPATCHERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, cpu_started = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    python_cpu = time.process_time() - cpu_started
    postgres_cpu = sum(backend_cpu)

    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        try:
            messages = client.llen(queue)
            queued = _queued_reminder_ids(client, queue)
        finally:
            client.delete(queue)
    all_claims = [pk for per in claimed for pk in per]
    duplicates = (len(queued) - len(set(queued))) + (len(all_claims) - len(set(all_claims)))
    missing = N - len(set(queued))
    print(
        f"BENCH reminders_claim_enqueue n={N} seconds={seconds:.2f} duplicates={duplicates} "
        f"missing={missing} per_dispatcher={[len(c) for c in claimed]} messages={messages} "
        f"python_cpu_s={python_cpu:.2f} postgres_cpu_s={postgres_cpu:.2f} load1={os.getloadavg()[0]:.1f} "
        f"cpus={os.cpu_count()} (target: <= 10 s)"
    )
    assert duplicates == 0
    assert missing == 0
    assert Reminder.objects.filter(status=ReminderStatus.SENDING).count() == N


def test_worker_drains_reminders(tmp_path: Path) -> None:
    from config.celery import app

    now = timezone.now()
    _seed(now, DRAIN_N)
    app.control.purge()
    env = {**os.environ, "DATABASE_URL": _db_url(), "VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    worker = Worker(f"drain-{os.getpid()}", env, tmp_path / "worker.log", concurrency=DRAIN_CONCURRENCY)
    try:
        worker.wait_ready()
        worker_cpu = _server_cpu_seconds(worker.proc.pid)
        started = time.perf_counter()
        claimed = reminders_dispatch(now=now, enqueue=reminders_enqueue).claimed
        wait_for(
            lambda: not Reminder.objects.filter(status=ReminderStatus.SENDING).exists(),
            timeout=1800,
            interval=0.5,
            what="the worker to drain the reminders",
        )
        seconds = time.perf_counter() - started
        worker_cpu = _server_cpu_seconds(worker.proc.pid) - worker_cpu
    finally:
        worker.stop()
    sent = list(Delivery.objects.filter(outcome="sent").values_list("reminder_id", flat=True))
    print(
        f"\nBENCH reminders_drain n={DRAIN_N} seconds={seconds:.1f} per_s={DRAIN_N / seconds:.0f} "
        f"concurrency={DRAIN_CONCURRENCY} worker_cpu_ms_per_reminder={worker_cpu / DRAIN_N * 1000:.2f} "
        f"sent={len(sent)} distinct={len(set(sent))} "
        f"load1={os.getloadavg()[0]:.1f} cpus={os.cpu_count()}"
    )
    assert claimed == DRAIN_N
    assert len(sent) == len(set(sent)) == DRAIN_N
    assert Notification.objects.count() == DRAIN_N
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == DRAIN_N


def test_deliver_unit_cost() -> None:
    """What one in-app send costs this process and its PostgreSQL backend, without Celery
    (the worker adds its own overhead and, as Celery closes the database connection after
    every task, one connection per message)."""
    now = timezone.now()
    count = min(DRAIN_N, 2000)
    _seed(now, count)
    claims: list[Any] = []
    reminders_dispatch(now=now, enqueue=claims.extend)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    python0, db0, started = time.process_time(), _cpu_seconds(backend), time.perf_counter()
    outcomes = {reminder_deliver(pk, now=now) for pk, _expires in claims}
    seconds = time.perf_counter() - started
    python_cpu, db_cpu = time.process_time() - python0, _cpu_seconds(backend) - db0
    print(
        f"\nBENCH reminders_deliver_unit_cost n={len(claims)} per_s={len(claims) / seconds:.0f} "
        f"python_cpu_ms_per_reminder={python_cpu / len(claims) * 1000:.2f} "
        f"db_cpu_ms_per_reminder={db_cpu / len(claims) * 1000:.2f} load1={os.getloadavg()[0]:.1f}"
    )
    assert outcomes == {Outcome.SENT}
    assert Notification.objects.count() == count
