"""The production shape without Docker: gunicorn (config.wsgi), a Celery worker and Celery
beat as separate processes on PostgreSQL and Redis, started as docker/entrypoint.sh starts
them. A phone's PHQ-9 with item 9 above 0 goes in through HTTP; the web process raises the
safety alert and queues its fan-out, the worker tells the care team; then every process
stops cleanly on SIGTERM."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import secrets
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from assessments.models import Alert, Notification
from tests.conftest import client_for
from tests.factories import make_clinic, make_patient, make_staff, make_user
from tests.integration.support import SKIP_REASON, Service, backends_ready, free_port, gunicorn, http_ok, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not backends_ready(), reason=SKIP_REASON),
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


def production_env(service_env: dict[str, str]) -> dict[str, str]:
    return {
        **service_env,
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",  # no TLS proxy in front here
        "LOG_LEVEL": "WARNING",
    }


def post_json(port: int, path: str, body: dict[str, Any], authorization: str) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, json.dumps(body), {"Authorization": authorization, "Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def test_web_worker_and_beat_on_postgresql_and_redis(
    start_worker: Any, service_env: dict[str, str], tmp_path: Path
) -> None:
    clinic = make_clinic()
    therapist = make_staff(clinic, "therapist")
    patient = make_patient(clinic, user=make_user(), therapists=(therapist,))
    authorization = client_for(patient.user)._credentials["HTTP_AUTHORIZATION"]
    env = production_env(service_env)

    port = free_port()
    web = gunicorn(env, tmp_path / "gunicorn.log", port=port)
    beat = Service(
        "beat",
        [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info", "--schedule", str(tmp_path / "beat")],
        env,
        tmp_path / "beat.log",
    )
    worker = start_worker("shape", **{k: v for k, v in env.items() if service_env.get(k) != v})
    try:
        wait_for(lambda: web.running() and http_ok(port), timeout=45, what="gunicorn /healthz")
        wait_for(lambda: beat.running() and "beat: Starting" in beat.log(), timeout=30, what="beat to start")

        answers = {f"item{i}": 1 for i in range(1, 9)} | {"item9": 2}
        status, body = post_json(
            port,
            f"/api/v1/patients/{patient.pk}/assessments/",
            {
                "instrument": "phq9",
                "answers": answers,
                "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
                "client_uuid": str(uuid.uuid4()),
            },
            authorization,
        )
        assert status == 201, body
        assert "suicidal_ideation" in body["flags"]
        alert = Alert.objects.get(patient=patient, kind="suicidal_ideation")
        # The web process queued the fan-out on commit; the worker process carries it out.
        wait_for(
            lambda: Notification.objects.filter(user=therapist, patient=patient).exists(),
            timeout=30,
            what="the worker to tell the care team",
        )
        alert.refresh_from_db()
        assert alert.notified_at is not None
        assert beat.running()
    finally:
        codes = {"gunicorn": web.stop(), "beat": beat.stop(), "worker": worker.stop()}
    assert codes == {"gunicorn": 0, "beat": 0, "worker": 0}, (codes, web.log()[-2000:], beat.log()[-2000:])
    assert "Traceback" not in web.log()
    assert "Traceback" not in worker.log()
