"""Integration fixtures: a real Redis broker and real ``celery worker`` subprocesses that
use the pytest-django test database (not eager mode).

The worker gets ``DATABASE_URL`` pointing at the test database created for this session,
the session's ``CELERY_BROKER_URL``, and ``CELERY_VISIBILITY_TIMEOUT=5`` so a message
whose worker was killed is redelivered within seconds. Tests here use
``transaction=True`` so that what they write is committed and visible to the worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.support import VISIBILITY_TIMEOUT, Worker, backends_ready


def _test_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def clean_broker() -> None:
    """Start from an empty queue: nothing left over from an earlier run reaches our worker."""
    if not backends_ready():
        pytest.skip("integration backends not configured")
    from config.celery import app

    app.control.purge()
    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        client.delete("unacked", "unacked_index")


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var" / "mail"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def service_env(django_db_setup: Any, clean_broker: None, mail_dir: Path) -> dict[str, str]:
    """The environment every subprocess of a test runs with: the test database, the
    session's broker, a short visibility timeout, mail written to files."""
    return {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "VAR_DIR": str(mail_dir.parent),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def start_worker(service_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start real workers on the test database; all are stopped when the test ends."""
    started: list[Worker] = []

    def start(name: str = "w1", *, concurrency: int = 2, ready: bool = True, **extra_env: str) -> Worker:
        env = {**service_env, **extra_env}
        worker = Worker(f"{name}-{os.getpid()}", env, tmp_path / f"{name}.log", concurrency=concurrency)
        started.append(worker)
        if ready:
            worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()
